#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_status: tierctl status, tiers, clients and leases against a real
# pmemtierd with two clients holding leases on two tiers. The JSON is read
# with jq and compared field by field with what the test set up; the human
# form is checked for its headers and values; a client's exit must show as
# its leases gone; 1500 leases need several status pages.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
pmt_setup
# No periodic audit: what tierctl shows is measured when asked.
pmt_config '
[daemon]
audit_interval = 0'
pmt_daemon_start

MiB=$((1 << 20))
cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ -n "$cgroup" ] || cgroup=/
version=$("$TIERCTL" --version | awk '{ print $2 }')

pmt_leaser A -- -t pmem -z 4M -n 3 -l alpha -w
pmt_leaser B -- -t kmem -z 8M -n 2 -l beta

# TierList measures physical use for admins as Status does: asked first,
# before any Status, it said 0.
pmt_ctl_ok -j tiers
jq_eq "tiers: pmem physical" '.tiers[] | select(.name == "pmem") | .physical' \
    $((12 * MiB))

pmt_note "tierctl -j status"
pmt_ctl_ok -j status
jq_eq "daemon.version" .daemon.version "$version"
jq_eq "daemon.socket" .daemon.socket "$PMT_SOCK"
jq_eq "daemon.full_view" .daemon.full_view true
jq_eq "daemon.uptime is a number" '.daemon.uptime | type' number
jq_eq "principal.uid" .principal.uid 0
jq_eq "principal.admin" .principal.admin true
jq_eq "principal.cgroup" .principal.cgroup "$cgroup"
jq_eq "tier count" '.tiers | length' 2

T='.tiers[] | select(.name == "pmem")'
jq_eq "pmem.backend" "$T | .backend" file
jq_eq "pmem.default" "$T | .default" true
jq_eq "pmem.path" "$T | .path" "$PMT_DIR/tier-pmem"
jq_eq "pmem.capacity" "$T | .capacity" $((1024 * MiB))
jq_eq "pmem.granted" "$T | .granted" $((12 * MiB))
jq_eq "pmem.free" "$T | .free" $(((1024 - 12) * MiB))
jq_eq "pmem.physical" "$T | .physical" $((12 * MiB))
jq_eq "pmem.quota (none set)" "$T | .quota" null
T='.tiers[] | select(.name == "kmem")'
jq_eq "kmem.backend" "$T | .backend" kmem
jq_eq "kmem.default" "$T | .default" false
jq_eq "kmem.numa_node" "$T | .numa_node" 0
jq_eq "kmem.capacity" "$T | .capacity" $((256 * MiB))
jq_eq "kmem.granted" "$T | .granted" $((16 * MiB))
jq_eq "kmem.free" "$T | .free" $((240 * MiB))

C=".clients[] | select(.pid == $A)"
jq_eq "client A appears once" "[$C] | length" 1
jq_eq "A.comm" "$C | .comm" pmt_leaser
jq_eq "A.client_name" "$C | .client_name" pmt_leaser
jq_eq "A.uid" "$C | .uid" 0
jq_eq "A.gid" "$C | .gid" 0
jq_eq "A.cgroup" "$C | .cgroup" "$cgroup"
jq_eq "A.leases" "$C | .leases" 3
jq_eq "A.granted" "$C | .granted" $((12 * MiB))
jq_eq "A.physical" "$C | .physical" $((12 * MiB))
C=".clients[] | select(.pid == $B)"
jq_eq "client B appears once" "[$C] | length" 1
jq_eq "B.leases" "$C | .leases" 2
jq_eq "B.granted" "$C | .granted" $((16 * MiB))

pmt_note "tierctl -j leases"
pmt_ctl_ok -j leases
jq_eq "lease count" '.leases | length' 5
want=$(awk '$1 == "lease" { print $2 }' "$PMT_DIR/A.out" | sort -n | xargs)
jq_eq "A's lease ids" "[.leases[] | select(.pid == $A) | .lease_id] |
    sort | map(tostring) | join(\" \")" "$want"
L=".leases[] | select(.pid == $A)"
jq_eq "A's lease sizes" "[$L | .size] | unique | .[]" $((4 * MiB))
jq_eq "A's lease tier" "[$L | .tier] | unique | .[]" pmem
jq_eq "A's lease label" "[$L | .label] | unique | .[]" alpha
jq_eq "A's lease cgroup" "[$L | .cgroup] | unique | .[]" "$cgroup"
jq_eq "A's leases not overgrown" "[$L | .overgrown] | unique | .[]" false
L=".leases[] | select(.pid == $B)"
jq_eq "B's lease sizes" "[$L | .size] | unique | .[]" $((8 * MiB))
jq_eq "B's lease tier" "[$L | .tier] | unique | .[]" kmem
jq_eq "B's lease label" "[$L | .label] | unique | .[]" beta

pmt_ctl_ok -j leases --pid "$B"
jq_eq "leases --pid B" '[.leases[].pid] | unique | .[]' "$B"
jq_eq "leases --pid B count" '.leases | length' 2
pmt_ctl_ok -j leases --cgroup "$cgroup"
jq_eq "leases --cgroup ours" '.leases | length' 5
pmt_ctl_ok -j leases --cgroup /pmt-no-such-cgroup
jq_eq "leases --cgroup other" '.leases | length' 0
pmt_ctl_ok -j clients --pid "$A"
jq_eq "clients --pid A" '[.clients[].pid] | .[]' "$A"

pmt_ctl_ok -j tiers
jq_eq "tiers: pmem granted" '.tiers[] | select(.name == "pmem") | .granted' \
    $((12 * MiB))
jq_eq "tiers: no devices without [discovery]" '.devices | length' 0
jq_eq "tiers: devices_total" '.devices_total' 0
jq_eq "tiers: no CXL objects without [discovery]" '.cxl | length' 0
jq_eq "tiers: cxl_total" '.cxl_total' 0
pmt_ctl_ok tiers
expect_match "tiers: pmem row" "$PMT_OUT" \
    "^pmem +file +\* +- +1GiB +12MiB +12MiB +1012MiB +none "
if printf '%s\n' "$PMT_OUT" | grep -q '^CXL '; then
	pmt_fail "tiers: a CXL section without discovery"
fi
if printf '%s\n' "$PMT_OUT" | grep -q '^DEVICE '; then
	pmt_fail "tiers: a DEVICES section without discovery"
fi

pmt_note "human output"
pmt_ctl_ok status
expect_match "status: daemon line" "$PMT_OUT" \
    "^pmemtierd $version, up [0-9]+d [0-9:]{8}, socket $PMT_SOCK\$"
expect_match "status: tier header" "$PMT_OUT" \
    '^TIER +BACKEND +DEF +NODE +CAPACITY +GRANTED +PHYSICAL +FREE +QUOTA +USED +DEVICE/PATH$'
expect_match "status: pmem row" "$PMT_OUT" \
    "^pmem +file +\* +- +1GiB +12MiB +12MiB +1012MiB +none +[^ ]+ +$PMT_DIR/tier-pmem\$"
expect_match "status: kmem row" "$PMT_OUT" \
    '^kmem +kmem +0 +256MiB +16MiB +[^ ]+ +240MiB +none '
expect_match "status: client header" "$PMT_OUT" \
    '^ *CONN +PID +COMM +UID +GID +LEASES +GRANTED +PHYSICAL +ALLOCATED +ACTIVE +CGROUP$'
expect_match "status: client A row" "$PMT_OUT" \
    "^ *[0-9]+ +$A +pmt_leaser +0 +0 +3 +12MiB +12MiB +- +- +$cgroup\$"
pmt_ctl_ok status --bytes
expect_match "status --bytes: pmem row" "$PMT_OUT" \
    "^pmem +file +\* +- +1073741824 +12582912 "
pmt_ctl_ok leases --pid "$B"
expect_match "leases: header" "$PMT_OUT" \
    '^ *LEASE +CONN +PID +TIER +SIZE +CHARGED +PHYSICAL +STATE +LABEL +CGROUP$'
expect_match "leases: B row" "$PMT_OUT" \
    "^ *[0-9]+ +[0-9]+ +$B +kmem +8MiB +8MiB +[^ ]+ +ok +beta +$cgroup\$"

pmt_note "names with quotes, control bytes and invalid UTF-8 stay valid JSON"
# The kernel's comm is the program's file name: give one that needs every
# kind of escaping, and a label with control characters.
odd=$(printf 'a"b\\c\td\377e')
cp "$LEASER" "$PMT_DIR/$odd"
LEASER_SAVED=$LEASER
LEASER=$PMT_DIR/$odd
pmt_leaser Q -- -t pmem -z 4K -n 1 -l "$(printf 'l"\001\\n\nx')"
LEASER=$LEASER_SAVED
pmt_ctl_ok -j clients --pid "$Q"
printf '%s' "$PMT_OUT" | jq -e . >/dev/null || pmt_fail "invalid JSON: $PMT_OUT"
expect_eq "odd comm, decoded" "$(printf '%s' "$PMT_OUT" | jq -j '.clients[0].comm' | od -An -tx1 | tr -s " \n" " ")" \
    "$(printf 'a"b\\c\td\357\277\275e' | od -An -tx1 | tr -s " \n" " ")"
pmt_ctl_ok -j leases --pid "$Q"
# The daemon may replace control characters in labels (its choice); the
# quote and the backslash must come through the JSON unchanged.
expect_match "odd label, decoded" \
    "$(printf '%s' "$PMT_OUT" | jq -j '.leases[0].label' | od -An -tx1 | tr -s " \n" " ")" \
    '^ 6c 22 .* 5c 6e .* 78 $'
# The human form must not pass control bytes to the terminal.
pmt_ctl_ok clients --pid "$Q"
expect_match "odd comm, human form" "$PMT_OUT" \
    "^ *[0-9]+ +$Q +a\"b\\\\c\\?d\\?e +0 "
[ "$(printf '%s' "$PMT_OUT" | tr -d '\n' | tr -d '[:print:]' | wc -c)" -eq 0 ] ||
    pmt_fail "control bytes in the human output"
pmt_leaser_stop "$Q"

pmt_note "a client's exit releases its leases"
pmt_leaser_stop "$A"
for _ in $(seq 1 50); do
	pmt_ctl_ok -j status
	g=$(printf '%s' "$PMT_OUT" | jq '.tiers[] | select(.name == "pmem") |
	    .granted')
	[ "$g" = 0 ] && break
	sleep 0.1
done
jq_eq "pmem.granted after A exited" \
    '.tiers[] | select(.name == "pmem") | .granted' 0
jq_eq "client A gone" "[.clients[] | select(.pid == $A)] | length" 0
jq_eq "client B still there" "[.clients[] | select(.pid == $B)] | length" 1
# Leases are O_TMPFILE files: nothing may be visible in the tier directory.
left=$(find "$PMT_DIR/tier-pmem" -type f)
[ -z "$left" ] || pmt_fail "lease files left in the tier directory: $left"

pmt_note "paging: 3000 leases do not fit one reply"
pmt_leaser P -- -t pmem -z 4K -n 3000 -c -l page
# One page at offset 0 must hold fewer leases than the total, or this part
# of the test would not exercise tierctl's paging at all.
page=$("$LEASER" -s "$PMT_SOCK" -n 0 -x -S | awk '/^status/ { print $3 }')
[ "${page%/*}" -lt "${page#*/}" ] ||
    pmt_fail "one status page held every lease ($page): no paging to test"
echo "ok: first status page holds $page leases"
pmt_ctl_ok -j leases --pid "$P"
jq_eq "paged lease count" '.leases | length' 3000
jq_eq "paged lease ids unique" '[.leases[].lease_id] | unique | length' 3000
pmt_ctl_ok -j status
jq_eq "paged client P" ".clients[] | select(.pid == $P) | .leases" 3000

pmt_note "status --watch: a fresh view every second until interrupted"
pmt_ctl timeout -s INT 2.5 -- -j status --watch
# Killed by the interrupt, after two or three views (one JSON each).
[ "$PMT_RC" -eq 124 ] || pmt_fail "status --watch exited $PMT_RC: $PMT_ERR"
views=$(jq -s 'length' "$PMT_DIR/ctl.out") ||
    pmt_fail "status --watch -j: not a stream of JSON documents"
[ "$views" -ge 2 ] && [ "$views" -le 4 ] ||
    pmt_fail "status --watch: $views views in 2.5 s"
echo "ok: status --watch printed $views views in 2.5 s"
pmt_ctl -- tiers --watch
[ "$PMT_RC" -eq 2 ] || pmt_fail "tiers --watch exited $PMT_RC, not 2 (usage)"
