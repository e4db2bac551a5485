# daemon_enforce: the hostile-user tests of tests/daemon/test_enforce.c on
# the guest's kernel (Debian 12's 6.1), which has neither SO_PEERPIDFD (the
# daemon proves who a peer is through sock_diag) nor SO_PASSRIGHTS (a
# descriptor a peer sends is closed off the event loop). On the host these
# paths are only forced; here they are the only ones there are.
. /vm/lib.sh
vm_begin daemon_enforce
vm_need_daemon
T=$PMEMTIER_BUILD_DIR/tests/daemon/daemon_enforce
vm_need_prog daemon_enforce "$T"

vm_step "the guest kernel lacks SO_PEERPIDFD: $(uname -r)"
grep -q ' - cgroup2 ' /proc/self/mountinfo || vm_skip "no cgroup2 in the guest"

# The lingering-socket test needs TCP over loopback.
busybox ip link set lo up 2>/dev/null || busybox ifconfig lo 127.0.0.1 up ||
	echo "note: no loopback: the lingering-socket test will skip"

vm_step "daemon_enforce, 1000 race attempts per path (forks are slow here)"
# /tmp is the initramfs; the daemon's file tiers want a tmpfs (O_TMPFILE).
export TMPDIR=/dev/shm PMEMTIER_RACE_ATTEMPTS=1000
vm_run "$T"

vm_step "a file tier where F_SETLEASE does not work is refused at start"
# Without leases the daemon could not tell a kept lease file from a
# released one: it must refuse the tier, not serve it blind.
echo 0 >/proc/sys/fs/leases-enable
mkdir -p /dev/shm/noleases/state
printf '[daemon]\nsocket = /dev/shm/noleases/s.sock\nstate_dir = /dev/shm/noleases/state\n[tier pmem]\nbackend = file\npath = /dev/shm/noleases/tier\ncapacity = 16M\n' \
	>/dev/shm/noleases/pmemtierd.conf
if timeout 20 "$PMEMTIERD" -d -f /dev/shm/noleases/pmemtierd.conf \
    >/dev/shm/noleases/log 2>&1; then
	vm_fail "pmemtierd started with a tier where leases do not work"
fi
echo 1 >/proc/sys/fs/leases-enable
cat /dev/shm/noleases/log
assert_grep "file leases .F_SETLEASE. do not work" /dev/shm/noleases/log
vm_pass
