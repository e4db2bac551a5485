#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_containers: a container-like client (own cgroup; new mount, pid
# and cgroup namespaces; the socket reached through a bind mount at another
# path) is identified by its real cgroup and host pid, not by what it sees
# or could send, and its cgroup's quota applies. A second container-like
# peer, root or not, cannot release the first one's leases, and a non-root
# one cannot see them.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_need_tools
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
[ "$(id -u)" -eq 0 ] || pmt_skip "needs root for namespaces and mounts"
command -v unshare >/dev/null || pmt_skip "unshare (util-linux) missing"
[ -d /mnt ] || pmt_skip "no /mnt to mount the container's view on"
pmt_sys_setup
pmt_cgroup_setup
unshare --mount --pid --cgroup --fork true 2>/dev/null ||
    pmt_skip "cannot create mount+pid+cgroup namespaces here"
pmt_cgroup C1 ctr1
pmt_cgroup C2 ctr2
pmt_config
pmt_daemon_start

CTR=$PMEMTIER_SOURCE_DIR/tests/system/ctr-run.sh
IN=/mnt/run/pmemtierd.sock
NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)

# The container's own view: cgroup "/", pid 1, the host path hidden.
view=$("$CTR" "$PMT_CG_MNT$C1" "$PMT_DIR" bash -c \
    'echo "$(sed -n "s/^0:://p" /proc/self/cgroup) $$ $(test -e "$0" && echo visible || echo hidden) $(test -S /mnt/run/pmemtierd.sock && echo sock)"' \
    "$PMT_SOCK")
expect_eq "inside: cgroup, pid, host socket path, bind-mounted socket" \
    "$view" "/ 1 hidden sock"

pmt_ctl_ok quota set --cgroup "$C1" pmem 6M

# Container 1 holds 4M; the leaser's -s points inside the container.
pmt_leaser U "$CTR" "$PMT_CG_MNT$C1" "$PMT_DIR" -- -s "$IN" -t pmem \
    -z 4M -n 1 -l ctr1
host_pid=$(cat "/proc/$U/task/$U/children" | awk '{ print $1 }')
[ -n "$host_pid" ] || pmt_fail "no host pid for the container's client"
# unshare ignores SIGTERM: the cleanup signals the client itself.
PMT_PIDS+=("$host_pid")
lease=$(awk '$1 == "lease" { print $2 }' "$PMT_DIR/U.out")

pmt_ctl_ok -j status
cl=".clients[] | select(.comm == \"pmt_leaser\" and .cgroup == \"$C1\")"
expect_eq "container client: one, by its real cgroup" \
    "$(printf '%s' "$PMT_OUT" | jq "[$cl] | length")" 1
expect_eq "container client: host pid, not 1" \
    "$(printf '%s' "$PMT_OUT" | jq "$cl | .pid")" "$host_pid"
pmt_ctl_ok -j leases --cgroup "$C1"
expect_eq "container lease: by its real cgroup" \
    "$(printf '%s' "$PMT_OUT" | jq -r '.leases[] | "\(.lease_id) \(.pid)"')" \
    "$lease $host_pid"

out=$("$CTR" "$PMT_CG_MNT$C1" "$PMT_DIR" "$LEASER" -s "$IN" -t pmem \
    -z 4M -x 2>&1)
expect_match "container 1's cgroup quota applies inside" "$out" \
    '^refused ERROR_QUOTA'

pmt_note "a second container cannot touch the first one's lease"
out=$("$CTR" "$PMT_CG_MNT$C2" "$PMT_DIR" "$LEASER" -s "$IN" -n 0 -x \
    -r "$lease" 2>&1) || pmt_fail "root peer: $out"
expect_match "root peer's release refused" "$out" \
    "^release $lease ERROR_UNKNOWN_LEASE\$"
out=$("$CTR" "$PMT_CG_MNT$C2" "$PMT_DIR" "${NOBODY[@]}" "$LEASER" -s "$IN" \
    -n 0 -x -r "$lease" 2>&1) || pmt_fail "nobody peer: $out"
expect_match "non-root peer's release refused" "$out" \
    "^release $lease ERROR_UNKNOWN_LEASE\$"
out=$("$CTR" "$PMT_CG_MNT$C2" "$PMT_DIR" "${NOBODY[@]}" "$TIERCTL" -s "$IN" \
    -j leases 2>&1) || pmt_fail "nobody peer tierctl: $out"
expect_eq "non-root peer sees no lease of container 1" \
    "$(printf '%s' "$out" | jq "[.leases[] | select(.lease_id == $lease)] | length")" 0
expect_eq "non-root peer's principal is its real cgroup" \
    "$("$CTR" "$PMT_CG_MNT$C2" "$PMT_DIR" "${NOBODY[@]}" "$TIERCTL" -s "$IN" \
    -j status | jq -r .principal.cgroup)" "$C2"

pmt_ctl_ok -j leases --cgroup "$C1"
expect_eq "container 1's lease is still there" \
    "$(printf '%s' "$PMT_OUT" | jq '.leases | length')" 1
