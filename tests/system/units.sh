#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_units: `systemd-analyze verify` accepts the installed
# pmemtierd.service, pmemtierd.socket and pmemtierd-metrics.socket: directives, the commands they run
# (ExecStart is pointed at the DESTDIR copy of the daemon) and the man
# pages named in Documentation= (looked up in the installed tree).
# It also holds the unit to issue 9's bar: `systemd-analyze security` exposure
# no worse than 2.5.
. "$(dirname "$0")/syslib.sh" || exit 1
command -v systemd-analyze >/dev/null ||
    pmt_skip "systemd-analyze not installed (package systemd)"
pmt_sys_setup

# Is systemd-analyze usable here at all? A trivial unit must pass.
mkdir -p "$PMT_DIR/probe"
printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' \
    >"$PMT_DIR/probe/pmt-probe.service"
if ! systemd-analyze verify --man=no "$PMT_DIR/probe/pmt-probe.service" \
    >"$PMT_DIR/probe.log" 2>&1; then
	pmt_skip "systemd-analyze verify does not work here: $(head -3 \
	    "$PMT_DIR/probe.log")"
fi

pmt_install
unitdir=$(sed -n 's/^PMEMTIER_SYSTEMD_UNITDIR:PATH=//p' \
    "$PMEMTIER_BUILD_DIR/CMakeCache.txt")
[ -f "$DEST$unitdir/pmemtierd.service" ] || pmt_fail "service not installed"
[ -x "$DEST$PREFIX/sbin/pmemtierd" ] || pmt_skip "pmemtierd not installed"

# verify checks that ExecStart's program exists: point it into DESTDIR.
# Everything else is verified as installed.
mkdir -p "$PMT_DIR/units"
sed "s|^ExecStart=$PREFIX/|ExecStart=$DEST$PREFIX/|" \
    "$DEST$unitdir/pmemtierd.service" >"$PMT_DIR/units/pmemtierd.service"
cp "$DEST$unitdir/pmemtierd.socket" "$PMT_DIR/units/pmemtierd.socket"
cp "$DEST$unitdir/pmemtierd-metrics.socket" \
    "$PMT_DIR/units/pmemtierd-metrics.socket"

# Documentation=man:... is checked against the installed man pages when all
# of them are there; otherwise the check says which are missing.
man=yes
for page in pmemtierd.8 pmemtierd.conf.5 tierctl.8; do
	sec=${page##*.}
	if [ ! -f "$DEST$PREFIX/share/man/man$sec/$page" ]; then
		echo "note: $page not installed; Documentation= not checked"
		man=no
	fi
done
rc=0
MANPATH=$DEST$PREFIX/share/man systemd-analyze verify --man=$man \
    "$PMT_DIR/units/pmemtierd.socket" "$PMT_DIR/units/pmemtierd.service" \
    "$PMT_DIR/units/pmemtierd-metrics.socket" >"$PMT_DIR/verify.log" 2>&1 || rc=$?
cat "$PMT_DIR/verify.log"
expect_eq "systemd-analyze verify exit" "$rc" 0
# verify exits 0 on some warnings; none are acceptable.
[ -s "$PMT_DIR/verify.log" ] && pmt_fail "systemd-analyze verify warned"

# The hardening the service promises is in force as systemd reads it.
svc=$PMT_DIR/units/pmemtierd.service
sec=$(systemd-analyze security --offline=yes "$svc" 2>/dev/null |
    awk '/Overall exposure level/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) print $i }')
# Issue 9's bar: the installed unit's exposure is no worse than 2.5.
if [ -n "$sec" ]; then
	echo "note: systemd-analyze security exposure level: $sec"
	awk -v s="$sec" 'BEGIN { exit !(s <= 2.5) }' ||
	    pmt_fail "systemd-analyze security exposure $sec is above 2.5"
else
	echo "note: systemd-analyze security printed no exposure level"
fi
for d in Type=notify ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    NoNewPrivileges=yes RuntimeDirectory=pmemtier StateDirectory=pmemtierd \
    ConfigurationDirectory=pmemtierd Restart=on-failure \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    'CapabilityBoundingSet=CAP_CHOWN CAP_SYS_ADMIN CAP_SYS_PTRACE' \
    SystemCallFilter=@system-service WatchdogSec=30s \
    'RestrictAddressFamilies=AF_UNIX AF_NETLINK' IPAddressDeny=any \
    DevicePolicy=closed ProtectProc=ptraceable ProcSubset=pid; do
	grep -qxF -- "$d" "$svc" || pmt_fail "service lacks $d"
done
for d in SocketMode=0660 SocketGroup=pmemtier; do
	grep -qxF -- "$d" "$PMT_DIR/units/pmemtierd.socket" ||
	    pmt_fail "socket lacks $d"
done
# The metrics socket serves the daemon, loopback only.
for d in Service=pmemtierd.service ListenStream=127.0.0.1:9466 \
    IPAddressDeny=any IPAddressAllow=localhost; do
	grep -qxF -- "$d" "$PMT_DIR/units/pmemtierd-metrics.socket" ||
	    pmt_fail "metrics socket lacks $d"
done
echo "ok: units verified"
