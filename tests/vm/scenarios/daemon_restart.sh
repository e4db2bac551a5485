# daemon_restart: leases taken over across restarts (tests/daemon/
# test_restart.c) on the guest's kernel, Debian 12's 6.1: eight
# libpmemtier clients of three uids, the daemon stopped and killed,
# a client killed while it is down, a damaged journal, and a lease
# descriptor passed to another user. Taking leases over rests on
# /proc/PID/fd and map_files of other users' processes and on
# reopening a file through them; here that is checked on the kernel
# of the distribution the project targets, not only the host's.
. /vm/lib.sh
vm_begin daemon_restart
vm_need_daemon
T=$PMEMTIER_BUILD_DIR/tests/daemon/daemon_restart
vm_need_prog daemon_restart "$T"

vm_step "daemon_restart on $(uname -r)"
# /tmp is the initramfs; the daemon's file tiers want a real filesystem.
export TMPDIR=/dev/shm
vm_run "$T"
vm_pass
