#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cli_quota: tierctl quota set/list/unset on a real daemon. A runtime quota
# refuses a grant over it at once and allows one under it; unset lifts it;
# a rule survives a daemon restart (state_dir) and is listed with its
# origin; a quota lowered under what a principal holds revokes nothing and
# shows it over quota; rescan and reload are acknowledged.
. "$(dirname "$0")/lib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
pmt_setup
# A config rule, to see both origins in the list.
pmt_config '
[quota cfg]
gid = 4242
tier = kmem
limit = 64M'
pmt_daemon_start

MiB=$((1 << 20))

# try_grant SIZE: "granted" or the refusal's code.
try_grant()
{
	pmt_try_grant -- -t pmem -z "$1"
}

pmt_ctl_ok -j quota list
jq_eq "config rule listed" '.rules | length' 1
jq_eq "config rule type" '.rules[0].type' gid
jq_eq "config rule gid" '.rules[0].gid' 4242
jq_eq "config rule tier" '.rules[0].tier' kmem
jq_eq "config rule limit" '.rules[0].limit' $((64 * MiB))
jq_eq "config rule origin" '.rules[0].origin' config

expect_eq "grant of 32M before any quota" "$(try_grant 32M)" granted

pmt_note "quota set --uid 0 pmem 16M"
pmt_ctl_ok quota set --uid 0 pmem 16M
expect_eq "quota set output" "$PMT_OUT" "quota set: ok"
expect_eq "grant of 32M over the quota" "$(try_grant 32M)" ERROR_QUOTA
expect_eq "grant of 8M under the quota" "$(try_grant 8M)" granted
pmt_ctl_ok -j quota list
R='.rules[] | select(.type == "uid")'
jq_eq "runtime rule uid" "$R | .uid" 0
jq_eq "runtime rule tier" "$R | .tier" pmem
jq_eq "runtime rule limit" "$R | .limit" $((16 * MiB))
jq_eq "runtime rule origin" "$R | .origin" runtime
pmt_ctl_ok quota list
expect_match "quota list header" "$PMT_OUT" '^TIER +LIMIT +ORIGIN +SELECTOR$'
expect_match "quota list uid row" "$PMT_OUT" '^pmem +16MiB +runtime +uid 0$'
expect_match "quota list gid row" "$PMT_OUT" '^kmem +64MiB +config +gid 4242$'

pmt_note "the rule survives a restart"
pmt_daemon_stop || pmt_fail "daemon stop"
pmt_daemon_start
pmt_ctl_ok -j quota list
jq_eq "rule after restart" \
    '.rules[] | select(.type == "uid") | "\(.tier) \(.limit) \(.origin)"' \
    "pmem $((16 * MiB)) runtime"
expect_eq "grant of 32M after restart" "$(try_grant 32M)" ERROR_QUOTA

pmt_note "lowering under the holdings revokes nothing"
pmt_leaser H -- -t pmem -z 12M -n 1
pmt_ctl_ok quota set --uid 0 pmem 4M
pmt_ctl_ok -j tiers
T='.tiers[] | select(.name == "pmem")'
jq_eq "pmem quota for us" "$T | .quota" $((4 * MiB))
jq_eq "pmem used by us" "$T | .used" $((12 * MiB))
jq_eq "shown over quota" "$T | .over_quota" true
pmt_ctl_ok -j leases --pid "$H"
jq_eq "H keeps its lease" '.leases | length' 1
# quota list shows the admin which bucket holds how much, and that it is
# over its (lowered) limit.
pmt_ctl_ok -j quota list
U='.usage[] | select(.bucket == "uid 0" and .tier == "pmem")'
jq_eq "usage: uid 0 bucket listed once" "[$U] | length" 1
jq_eq "usage: used" "$U | .used" $((12 * MiB))
jq_eq "usage: limit" "$U | .limit" $((4 * MiB))
jq_eq "usage: over" "$U | .over" true
jq_eq "usage: its rule" "$U | .rule | \"\(.type) \(.uid) \(.tier) \(.origin)\"" \
    "uid 0 pmem runtime"
jq_eq "usage: only buckets holding bytes" '.usage | length' 1
jq_eq "usage_total" .usage_total 1
pmt_ctl_ok quota list
expect_match "usage header" "$PMT_OUT" '^TIER +USED +LIMIT +STATE +BUCKET$'
expect_match "usage row" "$PMT_OUT" '^pmem +12MiB +4MiB +OVER +uid 0$'
expect_eq "grant of 4K while over quota" "$(try_grant 4K)" ERROR_QUOTA
pmt_leaser_stop "$H"

pmt_note "quota unset"
pmt_ctl_ok quota unset --uid 0 pmem
pmt_ctl_ok -j quota list
jq_eq "runtime rule gone" '[.rules[] | select(.type == "uid")] | length' 0
jq_eq "config rule kept" '[.rules[] | select(.type == "gid")] | length' 1
expect_eq "grant of 32M after unset" "$(try_grant 32M)" granted

pmt_note "selectors: cgroup glob, gid, default, every tier"
pmt_ctl_ok quota set --cgroup '/pmt-test-*/x' '*' 1G
pmt_ctl_ok quota set --gid 4343 kmem 2M
pmt_ctl_ok quota set --default pmem 512M
pmt_ctl_ok -j quota list
jq_eq "cgroup rule" '.rules[] | select(.type == "cgroup") |
    "\(.cgroup) \(.tier) \(.limit)"' "/pmt-test-*/x * $((1024 * MiB))"
jq_eq "gid rule" '.rules[] | select(.type == "gid" and .gid == 4343) |
    .limit' $((2 * MiB))
jq_eq "default rule" '.rules[] | select(.type == "default") | .limit' \
    $((512 * MiB))
# A default rule accounts per cgroup: root's bucket is its own cgroup, and
# the rule is named beside it. In the root cgroup, which every user
# shares, the bucket is the uid instead (pmemtierd.conf(5)).
cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ -n "$cgroup" ] || cgroup=/
bucket="cgroup $cgroup"
[ "$cgroup" = / ] && bucket="uid 0"
pmt_leaser D -- -t pmem -z 8M -n 1
pmt_ctl_ok -j quota list
U=".usage[] | select(.bucket == \"$bucket\")"
jq_eq "default usage: used" "$U | .used" $((8 * MiB))
jq_eq "default usage: limit" "$U | .limit" $((512 * MiB))
jq_eq "default usage: not over" "$U | .over" false
jq_eq "default usage: rule" "$U | .rule.type" default
pmt_ctl_ok quota list
expect_match "default usage row" "$PMT_OUT" \
    "^pmem +8MiB +512MiB +ok +$bucket  \\[rule default on pmem\\]\$"
pmt_leaser_stop "$D"
pmt_ctl_ok quota unset --cgroup '/pmt-test-*/x' '*'
pmt_ctl_ok quota unset --gid 4343 kmem
pmt_ctl_ok quota unset --default pmem
pmt_ctl_ok -j quota list
jq_eq "only the config rule left" '.rules | length' 1

pmt_note "reload and rescan"
pmt_ctl_ok reload
expect_eq "reload output" "$PMT_OUT" "reload: ok"
pmt_ctl_ok -j reload
jq_eq "reload json" '"\(.command) \(.ok)"' "reload true"
pmt_ctl_ok rescan
expect_eq "rescan output" "$PMT_OUT" "rescan: ok"
