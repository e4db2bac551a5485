#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_systemd_boot: the installed units under a real systemd. The host's
# /usr is booted with systemd as init in a container (systemd-nspawn
# --volatile=yes: a fresh /etc and /var, the DESTDIR install as
# /usr/local), and a test service inside checks: sysusers.d makes the
# groups, the socket unit listens with its mode and group, the first client
# starts pmemtierd.service (Type=notify), file and kmem leases are granted
# under the syscall filter, only pmemtier members reach the socket and
# pmemtier-admin members are admins, the sandbox (ProtectSystem=strict with
# the state directory writable, capability bounding set, NoNewPrivileges,
# seccomp) is in force, reload keeps the daemon, a runtime quota survives a
# restart, Restart=on-failure brings a crashed daemon back, and a client's
# leases are taken over across systemctl restart, a crash and
# systemctl kill -s KILL.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_need_daemon
[ -x "${LEASER:-}" ] || pmt_skip "pmt_leaser not built"
command -v systemd-nspawn >/dev/null ||
    pmt_skip "systemd-nspawn not installed (package systemd-container)"
[ "$(id -u)" -eq 0 ] || pmt_skip "needs root to boot a container"
pmt_sys_setup
[ "$(pmt_prefix)" = /usr/local ] ||
    pmt_skip "the container mounts the install as /usr/local; prefix is $(pmt_prefix)"
pmt_install
[ -f "$DEST/usr/local/etc/pmemtierd/pmemtierd.conf" ] ||
    pmt_skip "no example config installed (docs/examples/pmemtierd.conf)"

# The test service, enabled for the boot through the unit search path.
ud=$DEST/usr/local/lib/systemd/system
mkdir -p "$ud" "$PMT_DIR/out"
cat >"$ud/pmt-test.service" <<UNIT
[Unit]
Description=pmemtier system test
Requires=basic.target
After=basic.target

[Service]
Type=oneshot
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin
ExecStart=$PMEMTIER_SOURCE_DIR/tests/system/systemd-guest.sh $LEASER
UNIT
cat >"$ud/pmt-test.target" <<UNIT
[Unit]
Description=pmemtier system test target
Requires=basic.target pmt-test.service
After=basic.target
UNIT

machine=pmt-$$
rc=0
timeout 120 systemd-nspawn -q --volatile=yes -D / --register=no --keep-unit \
    -M "$machine" --bind-ro="$DEST/usr/local:/usr/local" \
    --bind-ro="$PMEMTIER_SOURCE_DIR" --bind-ro="$PMEMTIER_BUILD_DIR" \
    --bind="$PMT_DIR/out:/pmt-out" -b -- \
    systemd.unit=pmt-test.target systemd.firstboot=off \
    systemd.show_status=false ${PMT_NSPAWN_DEBUG:+systemd.log_target=console systemd.log_level=info} </dev/null >"$PMT_DIR/boot.log" 2>&1 || rc=$?
# nspawn cannot clean its propagation directory when /run is not a tmpfs.
rm -rf "/run/systemd/nspawn/propagate/$machine"
rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn \
    /run/systemd/nspawn-root 2>/dev/null

if [ ! -f "$PMT_DIR/out/result" ]; then
	if grep -qi 'failed to\|not supported\|permission denied' \
	    "$PMT_DIR/boot.log" && ! grep -q 'Welcome to' "$PMT_DIR/boot.log"
	then
		pmt_skip "systemd does not boot in a container here: $(head -3 \
		    "$PMT_DIR/boot.log")"
	fi
	cat "$PMT_DIR/boot.log" "$PMT_DIR/out/guest.log" 2>/dev/null | tail -60
	pmt_fail "the container gave no result (nspawn exit $rc)"
fi
cat "$PMT_DIR/out/guest.log"
expect_eq "result inside the container" "$(cat "$PMT_DIR/out/result")" \
    "result 0"
