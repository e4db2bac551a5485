#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_access: what a non-admin peer sees and may do is decided by the
# daemon from its credentials. uid 65534 (setpriv) sees the daemon and
# tier summary and only its own clients and leases, and is refused quota
# changes, reload and rescan with "permission denied" (exit 1); root sees
# everyone.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
command -v setpriv >/dev/null || pmt_skip "setpriv (util-linux) missing"
[ "$(id -u)" -eq 0 ] || pmt_skip "needs root to run a client as uid 65534"
pmt_setup
pmt_config
pmt_daemon_start

NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)

pmt_leaser R -- -t pmem -z 4M -n 2 -l root-lease
pmt_leaser N "${NOBODY[@]}" -- -t pmem -z 8M -n 1 -l nobody-lease

pmt_note "non-admin view"
pmt_ctl "${NOBODY[@]}" -- -j status
expect_eq "nobody: status exit" "$PMT_RC" 0
jq_eq "nobody: full_view" .daemon.full_view false
jq_eq "nobody: principal uid" .principal.uid 65534
jq_eq "nobody: not admin" .principal.admin false
jq_eq "nobody: sees the tiers" '.tiers | length' 2
jq_eq "nobody: sees own client" "[.clients[] | select(.pid == $N)] | length" 1
jq_eq "nobody: does not see root's" \
    "[.clients[] | select(.pid == $R)] | length" 0
jq_eq "nobody: every client is uid 65534" \
    '[.clients[].uid] | unique | map(tostring) | join(",")' 65534
pmt_ctl "${NOBODY[@]}" -- -j leases
expect_eq "nobody: leases exit" "$PMT_RC" 0
jq_eq "nobody: own lease only" '[.leases[].label] | join(",")' nobody-lease
pmt_ctl "${NOBODY[@]}" -- status
expect_match "nobody: human view line" "$PMT_OUT" \
    '^view: your own clients only'

pmt_note "non-admin changes are refused"
for cmd in "quota set --uid 65534 pmem 1G" "quota unset --uid 0 pmem" \
    "quota set --default pmem 1M" reload rescan; do
	# shellcheck disable=SC2086
	pmt_ctl "${NOBODY[@]}" -- $cmd
	expect_eq "nobody: $cmd exit" "$PMT_RC" 1
	expect_match "nobody: $cmd message" "$PMT_ERR" \
	    'permission denied.*ERROR_DENIED'
done
pmt_ctl_ok -j quota list
jq_eq "no rule was added" '.rules | length' 0

pmt_note "admin view"
pmt_ctl_ok -j status
jq_eq "root: full_view" .daemon.full_view true
jq_eq "root: sees nobody's client" \
    "[.clients[] | select(.pid == $N) | .uid] | .[]" 65534
jq_eq "root: sees its own" "[.clients[] | select(.pid == $R)] | length" 1
pmt_ctl_ok -j leases
jq_eq "root: sees all leases" '.leases | length' 3

pmt_note "bucket usage and physical use are shown to admins only"
pmt_ctl_ok quota set --default pmem 1G
pmt_ctl "${NOBODY[@]}" -- -j quota list
expect_eq "nobody: quota list exit" "$PMT_RC" 0
jq_eq "nobody: no bucket usage" '.usage | length' 0
pmt_ctl "${NOBODY[@]}" -- -j tiers
jq_eq "nobody: tiers hide physical use" \
    '.tiers[] | select(.name == "pmem") | .physical' 0
pmt_ctl_ok -j quota list
# root and nobody share the test's cgroup: one bucket of the default rule,
# unless that is the root cgroup, where each uid has its own.
if [ "$(sed -n 's/^0:://p' /proc/self/cgroup)" = / ]; then
	jq_eq "root: a bucket per uid in the root cgroup" '.usage | length' 2
	jq_eq "root: buckets hold both" '[.usage[].used] | add' $((16 << 20))
else
	jq_eq "root: one bucket" '.usage | length' 1
	jq_eq "root: bucket holds both" '.usage[0].used' $((16 << 20))
fi
jq_eq "root: bucket's rule" '.usage[0].rule.type' default
pmt_ctl_ok -j tiers
jq_eq "root: tiers show physical use" \
    '.tiers[] | select(.name == "pmem") | .physical' $((16 << 20))
