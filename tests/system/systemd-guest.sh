#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs inside the systemd container of system_systemd_boot, as a service
# started after basic.target: drives the installed units with systemctl and
# tierctl, writes "result N" to /pmt-out/result and powers the container
# off. Arguments: the path of pmt_leaser.
set -u
LEASER=$1
out=/pmt-out
exec >"$out/guest.log" 2>&1
set -x

fail()
{
	echo "FAIL: $*"
	systemctl status pmemtierd.socket pmemtierd.service --no-pager
	journalctl -b --no-pager -u pmemtierd.service -u pmemtierd.socket |
	    tail -n 40
	echo "result 1" >"$out/result"
	systemctl --no-block poweroff
	exit 1
}

check()
{
	local what=$1
	shift
	"$@" || fail "$what"
	echo "ok: $what"
}

check "group pmemtier made by sysusers.d" getent group pmemtier
check "socket unit starts" systemctl start pmemtierd.socket
check "socket listens" test -S /run/pmemtier/pmemtierd.sock
perm=$(stat -c '%a %G' /run/pmemtier/pmemtierd.sock)
[ "$perm" = "660 pmemtier" ] || fail "socket mode/group: $perm"
systemctl is-active --quiet pmemtierd.service &&
    fail "service runs before the first client"

# The first client starts the service (Type=notify: tierctl's Hello is
# answered once the daemon is ready).
status=$(tierctl -j status) || fail "tierctl status exited $?"
echo "$status"
check "service active after first client" systemctl is-active --quiet \
    pmemtierd.service
[ "$(echo "$status" | jq -r .daemon.socket)" = /run/pmemtier/pmemtierd.sock ] ||
    fail "status socket"
pid=$(systemctl show -P MainPID pmemtierd.service)

# A lease through the socket, with the tier in the StateDirectory.
"$LEASER" -s /run/pmemtier/pmemtierd.sock -t pmem -z 4M -n 1 -x \
    >"$out/lease.out" 2>&1 ||
    fail "lease: $(cat "$out/lease.out")"
check "lease granted" grep -q '^lease ' "$out/lease.out"
# A kmem lease: memfd_create, sealing and mbind under the syscall filter.
"$LEASER" -s /run/pmemtier/pmemtierd.sock -t kmem -z 4M -n 1 -w -x \
    >"$out/kmem.out" 2>&1 || fail "kmem lease: $(cat "$out/kmem.out")"
check "kmem lease granted" grep -q '^lease [0-9]* kmem ' "$out/kmem.out"

# Who may connect: members of pmemtier (a non-admin view), nobody else.
gid=$(getent group pmemtier | cut -d: -f3)
rc=0
setpriv --reuid 65534 --regid 65534 --clear-groups tierctl status \
    >"$out/nogroup.out" 2>&1 || rc=$?
[ "$rc" = 3 ] && grep -q 'no access to the socket' "$out/nogroup.out" ||
    fail "a non-member reached the socket (exit $rc): $(cat "$out/nogroup.out")"
echo "ok: a non-member is refused by the socket's mode"
view=$(setpriv --reuid 65534 --regid 65534 --groups "$gid" tierctl -j status) ||
    fail "a pmemtier member could not connect"
[ "$(echo "$view" | jq -r .daemon.full_view)" = false ] ||
    fail "a plain member got the admin view"
echo "ok: a pmemtier member connects, with its own view"
# The example config names pmemtier-admin (sysusers.d) as admin_group.
agid=$(getent group pmemtier-admin | cut -d: -f3)
[ -n "$agid" ] || fail "no pmemtier-admin group"
view=$(setpriv --reuid 65534 --regid 65534 --groups "$gid,$agid" \
    tierctl -j status) || fail "a pmemtier-admin member could not connect"
[ "$(echo "$view" | jq -r .daemon.full_view)" = true ] ||
    fail "a pmemtier-admin member did not get the admin view"
echo "ok: a pmemtier-admin member is an admin"

# The sandbox is the unit's: what systemd applied to the daemon.
grep -E '^(Name|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status"
# (No awk here: it is an /etc/alternatives link, and /etc is fresh.)
caps=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$pid/status")
[ "$caps" = "$(printf '%016x' $(((1 << 0) | (1 << 21) | (1 << 19))))" ] ||
    fail "capability bounding set $caps"
# ProtectSystem=strict: / read-only for the daemon, its state writable.
mi=/proc/$pid/mountinfo
grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ro[, ]' "$mi" ||
    fail "root is not read-only for the daemon: $(grep ' / / ' "$mi")"
grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ /var/lib/pmemtierd rw[, ]' "$mi" ||
    fail "state directory not writable for the daemon"
echo "ok: ProtectSystem=strict with the state directory writable"
check "no new privileges" grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status"
check "seccomp filter" grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"

# Reload (ExecReload= sends SIGHUP) keeps the daemon and its state.
tierctl quota set --uid 4242 pmem 64M || fail "quota set"
check "reload" systemctl reload pmemtierd.service
[ "$(systemctl show -P MainPID pmemtierd.service)" = "$pid" ] ||
    fail "reload replaced the daemon"
# Leases survive restarts and crashes: a client holds two across them.
"$LEASER" -s /run/pmemtier/pmemtierd.sock -t pmem -z 4M -n 2 -w \
    >"$out/hold.out" 2>&1 &
holder=$!
for _ in $(seq 1 50); do
	grep -q '^ready' "$out/hold.out" && break
	sleep 0.1
done
grep -q '^ready' "$out/hold.out" || fail "holder: $(cat "$out/hold.out")"
held()
{
	tierctl -j leases |
	    jq -c "[.leases[] | select(.pid == $holder) | .lease_id] | sort"
}
ids=$(held) || fail "tierctl leases"
[ "$ids" != "[]" ] || fail "the holder's leases are not listed"
# A runtime quota is written to StateDirectory= and survives a restart.
check "restart" systemctl restart pmemtierd.service
[ "$(held)" = "$ids" ] ||
    fail "leases across systemctl restart: $(held), before $ids"
echo "ok: leases taken over across systemctl restart"
tierctl -j quota list | jq -e '.rules[] | select(.uid == 4242 and .origin == "runtime")' ||
    fail "runtime quota lost across restart"
check "state under StateDirectory" test -n "$(ls -A /var/lib/pmemtierd)"

# Waits (10 s at most) for a daemon other than pid to be active.
new_daemon()
{
	for _ in $(seq 1 50); do
		npid=$(systemctl show -P MainPID pmemtierd.service)
		[ "$npid" != 0 ] && [ "$npid" != "$1" ] &&
		    systemctl is-active --quiet pmemtierd.service && return 0
		sleep 0.2
	done
	return 1
}

# Restart=on-failure: a crash brings it back.
pid=$(systemctl show -P MainPID pmemtierd.service)
kill -SEGV "$pid"
new_daemon "$pid" || fail "not restarted after a crash"
tierctl tiers >/dev/null || fail "tierctl after the restart"
echo "ok: restarted after a crash"
[ "$(held)" = "$ids" ] || fail "leases across a crash: $(held), before $ids"
echo "ok: leases taken over after a crash"
# systemctl kill -s KILL: no STOPPING=1, no clean exit; Restart= again.
pid=$npid
systemctl kill -s KILL pmemtierd.service
new_daemon "$pid" || fail "not restarted after KILL"
[ "$(held)" = "$ids" ] || fail "leases across KILL: $(held), before $ids"
journalctl -b --no-pager -u pmemtierd.service | grep 'restore: ' | tail -n 1
echo "ok: leases taken over after systemctl kill -s KILL"
# Upgrade in place: the same MainPID, the same leases, active again.
pid=$npid
systemctl kill -s USR2 pmemtierd.service
for _ in $(seq 1 50); do
	journalctl -b --no-pager -u pmemtierd.service |
	    grep -q "re-executing" &&
	    [ "$(held)" = "$ids" ] && break
	sleep 0.2
done
[ "$(systemctl show -P MainPID pmemtierd.service)" = "$pid" ] ||
    fail "SIGUSR2 replaced the process"
systemctl is-active --quiet pmemtierd.service || fail "inactive after SIGUSR2"
[ "$(held)" = "$ids" ] || fail "leases across SIGUSR2: $(held), before $ids"
echo "ok: leases taken over after an in-place re-exec (SIGUSR2)"
kill "$holder"
wait "$holder"

# scrape: GET /metrics on 127.0.0.1:9466 (bash's /dev/tcp: no curl here).
scrape()
{
	exec 5<>/dev/tcp/127.0.0.1/9466 || return 1
	printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&5
	timeout 5 cat <&5 >/tmp/scrape.txt
	exec 5<&-
	grep -q '^pmemtier_build_info' /tmp/scrape.txt
}
# The metrics socket unit: systemd listens on loopback and passes the
# socket with the control socket; the daemon, kept off IP by its unit,
# serves /metrics on it, and keeps it across an in-place re-exec.
check "metrics socket unit starts" systemctl start pmemtierd-metrics.socket
check "restart to take the metrics socket" systemctl restart pmemtierd.service
scrape || fail "no metrics on the socket systemd passed: $(head -c 300 /tmp/scrape.txt)"
journalctl -b --no-pager -u pmemtierd.service | grep -q 'socket passed in' ||
    fail "the daemon did not say it took the metrics socket"
grep -q 'pmemtier_clients_connected' /tmp/scrape.txt ||
    fail "the scrape lacks pmemtier_clients_connected"
echo "ok: /metrics served on the socket from pmemtierd-metrics.socket"
pid=$(systemctl show -P MainPID pmemtierd.service)
systemctl kill -s USR2 pmemtierd.service
for _ in $(seq 1 50); do
	[ "$(journalctl -b --no-pager -u pmemtierd.service |
	    grep -c 'socket passed in')" -ge 2 ] && scrape && break
	sleep 0.2
done
[ "$(systemctl show -P MainPID pmemtierd.service)" = "$pid" ] ||
    fail "SIGUSR2 replaced the process"
scrape || fail "no metrics after the re-exec"
tierctl status >/dev/null || fail "control socket lost in the re-exec"
echo "ok: both sockets kept across an in-place re-exec"

check "stop" systemctl stop pmemtierd.service pmemtierd.socket \
    pmemtierd-metrics.socket
echo "result 0" >"$out/result"
systemctl --no-block poweroff
