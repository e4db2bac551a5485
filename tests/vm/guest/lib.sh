# Helpers for scenario scripts running inside the test guest (busybox sh).
# A scenario sources this file, calls vm_begin NAME, asserts with the
# functions below (each failure exits 1 with the line that failed) and
# ends with vm_pass. A missing prerequisite is vm_skip "what is missing".

VM_NAME=scenario
VM_STEP=0

vm_begin() {
	VM_NAME=$1
	echo "== $VM_NAME"
}

vm_step() {
	VM_STEP=$((VM_STEP + 1))
	echo "-- $VM_NAME: $VM_STEP: $*"
}

vm_fail() {
	echo "FAIL: $VM_NAME: $*"
	exit 1
}

vm_skip() {
	echo "SKIP: $VM_NAME: $*"
	exit 77
}

vm_pass() {
	echo "PASS: $VM_NAME"
	exit 0
}

# vm_run CMD...: run, echo the command and its output; fail when it fails.
vm_run() {
	echo "\$ $*"
	"$@" || vm_fail "'$*' exited $?"
}

# vm_must_fail CMD...: the command must exit non-zero.
vm_must_fail() {
	echo "\$ $* (must fail)"
	if "$@"; then
		vm_fail "'$*' succeeded but must fail"
	fi
	return 0
}

# assert_grep PATTERN FILE [WHY]: FILE has a line matching the ERE PATTERN.
assert_grep() {
	grep -qE -- "$1" "$2" ||
		{ echo "--- $2:"; cat "$2"; vm_fail "${3:-no line matches '$1' in $2}"; }
}

# assert_no_grep PATTERN FILE [WHY]
assert_no_grep() {
	if grep -qE -- "$1" "$2"; then
		echo "--- $2:"
		cat "$2"
		vm_fail "${3:-a line matches '$1' in $2}"
	fi
	return 0
}

assert_eq() {
	[ "$1" = "$2" ] || vm_fail "${3:-expected '$2', got '$1'}"
}

# json_str KEY: the first "KEY":"value" string in the JSON on stdin.
json_str() {
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n1
}

# The build tree's programs; a scenario that needs one and finds it missing
# skips with the name of the target to build.
vm_need_prog() {
	_p=$1
	_path=$2
	[ -n "$_path" ] && [ -x "$_path" ] ||
		vm_skip "$_p is not built, or its path was not passed (build target '$_p' in ${PMEMTIER_BUILD_DIR:-the build directory}; ctest passes PMEMTIERD and TIERCTL)"
}

# probe path: tests/vm/discovery_probe from the build tree.
VM_PROBE=${PMEMTIER_BUILD_DIR:-/nonexistent}/tests/vm/discovery_probe

# Give the region labels so that several namespaces can be carved from it
# (a QEMU NVDIMM with label-size starts as one label-less namespace).
nd_init_labels() {
	vm_run ndctl disable-region all
	vm_run ndctl init-labels -f all
	vm_run ndctl enable-region all
}

# nd_create MODE SIZE [NAME]: create a namespace, print ndctl's JSON on
# stdout (the caller extracts "blockdev"/"chardev"/"dev").
nd_create() {
	_args="-m $1 -s $2"
	[ -n "${3:-}" ] && _args="$_args -n $3"
	# shellcheck disable=SC2086
	ndctl create-namespace $_args -r region0 ||
		vm_fail "ndctl create-namespace $_args failed"
}

# ---- the daemon -------------------------------------------------------------

VM_CLIENT=${PMEMTIER_BUILD_DIR:-/nonexistent}/tests/vm/vm_client
PMTD_DIR=/run/pmtd
export PMEMTIER_SOCKET=$PMTD_DIR/pmemtierd.sock

# Skips unless pmemtierd, tierctl and vm_client are built.
vm_need_daemon() {
	vm_need_prog pmemtierd "${PMEMTIERD:-}"
	vm_need_prog tierctl "${TIERCTL:-}"
	vm_need_prog vm_client "$VM_CLIENT"
}

# pmtd_start CONFIG_TEXT: writes $PMTD_DIR/pmemtierd.conf ("@DIR@" in the
# text becomes $PMTD_DIR) with a [daemon] section prepended, starts
# pmemtierd in the foreground (log in $PMTD_DIR/log) and waits <= 10 s for
# its socket.
pmtd_start() {
	mkdir -p $PMTD_DIR/state
	{
		printf '[daemon]\nsocket = %s\nstate_dir = %s/state\n\n' \
			"$PMEMTIER_SOCKET" $PMTD_DIR
		echo "$1" | sed "s|@DIR@|$PMTD_DIR|g"
	} >$PMTD_DIR/pmemtierd.conf
	echo "--- pmemtierd.conf"
	cat $PMTD_DIR/pmemtierd.conf
	"$PMEMTIERD" -n -f $PMTD_DIR/pmemtierd.conf ||
		vm_fail "pmemtierd rejects the configuration"
	"$PMEMTIERD" -d -f $PMTD_DIR/pmemtierd.conf >>$PMTD_DIR/log 2>&1 &
	PMTD_PID=$!
	_i=0
	while ! "$TIERCTL" status >/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 $PMTD_PID 2>/dev/null; then
			pmtd_log
			vm_fail "pmemtierd did not come up"
		fi
		sleep 0.1
	done
}

# The last lines of the daemon's log (a refused client can make many).
pmtd_log() {
	echo "--- pmemtierd log (last 40 lines)"
	tail -n 40 $PMTD_DIR/log
}

# pmtd_stop: SIGTERM; the daemon must exit 0 within 10 s.
pmtd_stop() {
	kill -TERM $PMTD_PID
	_i=0
	while kill -0 $PMTD_PID 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 $PMTD_PID 2>/dev/null; then
		kill -KILL $PMTD_PID
		pmtd_log
		vm_fail "pmemtierd did not stop on SIGTERM"
	fi
	wait $PMTD_PID
	_rc=$?
	[ $_rc = 0 ] || { pmtd_log; vm_fail "pmemtierd exited $_rc"; }
}

# pmtd_alive: the daemon still runs and answers.
pmtd_alive() {
	kill -0 $PMTD_PID 2>/dev/null || { pmtd_log; vm_fail "pmemtierd died"; }
	"$TIERCTL" status >/dev/null || { pmtd_log; vm_fail "pmemtierd does not answer"; }
}

# client_bg OUT ARGS...: vm_client in the background until it says ready;
# sets CLIENT_PID.
client_bg() {
	_out=$1
	shift
	"$VM_CLIENT" "$@" >"$_out" 2>&1 &
	CLIENT_PID=$!
	_i=0
	until grep -q '^ready' "$_out"; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 $CLIENT_PID 2>/dev/null; then
			cat "$_out"
			pmtd_log
			vm_fail "vm_client $* did not get ready"
		fi
		sleep 0.1
	done
	cat "$_out"
}

client_end() {
	kill -TERM $CLIENT_PID 2>/dev/null
	wait $CLIENT_PID
}

# Skips unless pmemtierd takes the [discovery]/[device] configuration
# (docs/operator-guide.md), i.e. discovery is wired into the daemon.
vm_need_discovery_daemon() {
	vm_need_daemon
	mkdir -p $PMTD_DIR
	printf '[daemon]\nsocket = %s\n\n[discovery]\nenable = yes\n\n[device dax9.9]\nonline = yes\nmovable = yes\n' \
		"$PMEMTIER_SOCKET" >$PMTD_DIR/probe.conf
	if ! "$PMEMTIERD" -n -f $PMTD_DIR/probe.conf >$PMTD_DIR/probe.out 2>&1; then
		cat $PMTD_DIR/probe.out
		vm_skip "pmemtierd does not accept [discovery] / [device NAME] online = yes (discovery not wired into the daemon yet)"
	fi
}

# The CXL scenarios: the discovery daemon, jq and cxl in the guest, and the
# emulated memdev (vm-run's CXL machine, "# vm-machine: cxl").
vm_need_cxl() {
	vm_need_discovery_daemon
	command -v jq >/dev/null || vm_skip "jq is not in the guest (install jq on the host)"
	command -v cxl >/dev/null || vm_skip "cxl (ndctl package) is not in the guest"
	[ -e /sys/bus/cxl/devices/mem0 ] || vm_skip "no CXL memdev mem0: the CXL machine did not come up"
}

# cxl_field NAME JQ-FIELD: one field of a CXL object from tierctl -j tiers.
cxl_field() {
	"$TIERCTL" -j tiers | jq -r ".cxl[] | select(.name==\"$1\") | .$2"
}

# nregions: how many CXL regions exist.
nregions() { cxl list -R | grep -c '"region":'; }

# tier_field TIER JQ-FIELD: one field of a tier from tierctl -j tiers.
tier_field() {
	"$TIERCTL" -j tiers | jq -r ".tiers[] | select(.name==\"$1\") | .$2"
}

# dev_field DEVICE JQ-FIELD: one field of a discovered device (by its
# name) from tierctl -j tiers.
dev_field() {
	"$TIERCTL" -j tiers | jq -r ".devices[] | select(.name==\"$1\") | .$2"
}

# node1_online_bytes: bytes of the online memory blocks of node 1.
node1_online_bytes() {
	_bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
	_n=0
	for _m in /sys/devices/system/node/node1/memory[0-9]*; do
		[ -r "$_m/state" ] || continue
		[ "$(cat "$_m/state")" = online ] && _n=$((_n + 1))
	done
	echo $((_n * _bs))
}

# node1_kb: MemTotal of node 1 in kB (0 while it has no memory).
node1_kb() {
	[ -r /sys/devices/system/node/node1/meminfo ] || { echo 0; return; }
	sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node1/meminfo
}

# pmtd_hup: SIGHUP, then check the daemon answers again.
pmtd_hup() {
	kill -HUP $PMTD_PID
	sleep 0.5
	pmtd_alive
}

# vm_wait SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 if it
# never did. For what the daemon does asynchronously (a closed connection,
# a signal), so a loaded machine does not fail a test.
vm_wait() {
	_t=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		_t=$((_t - 1))
		[ $_t -gt 0 ] || return 1
		sleep 0.1
	done
	return 0
}

# granted_is TIER BYTES: tierctl shows exactly BYTES granted on TIER.
granted_is() {
	[ "$(tier_field "$1" granted)" = "$2" ]
}

# all_granted_zero: no tier has anything granted.
all_granted_zero() {
	[ "$("$TIERCTL" -j tiers | jq -r '[.tiers[].granted] | add')" = 0 ]
}

# holds_open PID DEV: process PID has /dev/DEV open on its stdin.
holds_open() {
	[ "$(readlink /proc/"$1"/fd/0)" = "/dev/$2" ]
}
