#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_manpage: docs/tierctl.8 formats without groff warnings, and it and
# `tierctl -h` describe the same commands and options.
. "$(dirname "$0")/lib.sh" || exit 1
[ -n "${TIERCTL:-}" ] && [ -x "$TIERCTL" ] || pmt_skip "tierctl is not built"
command -v man >/dev/null || pmt_skip "man (man-db) not installed"
page=$PMEMTIER_SOURCE_DIR/docs/tierctl.8
[ -f "$page" ] || pmt_fail "no $page"

warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
expect_eq "groff warnings" "$warn" ""
# Plain text: drop the overstrike (bold, underline) that grotty may emit.
text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$page" 2>/dev/null |
    sed 's/.\x08//g')

# Every command word and option in the usage has its entry in the page.
help=$("$TIERCTL" -h)
for cmd in $(printf '%s\n' "$help" | awk '/^commands:/ { on = 1; next }
    /^$/ { on = 0 } on { print $1 }' | sort -u); do
	expect_match "man page documents '$cmd'" "$text" "^ +$cmd( |\$)"
done
for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z]+' | sort -u); do
	expect_match "man page documents $opt" "$text" "$opt"
done
for code in 0 1 2 3; do
	expect_match "exit status $code documented" "$text" "^ +$code +[A-Z]"
done
