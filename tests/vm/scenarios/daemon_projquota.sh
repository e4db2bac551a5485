# daemon_projquota: [tier] enforce = project-quota on fsdax tiers, xfs and
# ext4 mounted -o prjquota. A hostile client (uid 65534, a 32 MiB rule)
# grows its lease past the rule: the kernel refuses (the audit is off, so
# nothing else could), the project's usage as the filesystem reports it is
# what the lease took, the client cannot move its file out of the project,
# and the next grant is refused with ERROR_QUOTA because the filesystem
# said so. A victim (uid 65533) is served all along; a runtime rule change
# reaches the filesystem at once; the limits outlive the daemon. A mount
# without prjquota makes the daemon refuse the tier, naming the fix.
. /vm/lib.sh
vm_begin daemon_projquota
vm_need_daemon
LEASER=${PMEMTIER_BUILD_DIR:-/nonexistent}/tests/cli/pmt_leaser
vm_need_prog pmt_leaser "$LEASER"
command -v xfs_quota >/dev/null ||
	vm_skip "xfs_quota is not in the guest (install xfsprogs on the host)"

HOSTILE=65534
VICTIM=65533
BASE=$((0x70000000))	# the default project_base
MiB=1048576

# proj_kib MOUNT ID: "USED HARD" (KiB) of project ID, as the filesystem
# reports it (xfs_quota; -f lets it talk to ext4 too).
proj_kib() {
	xfs_quota -f -x -c "report -p -n -N -b" "$1" |
		awk -v id="#$2" '$1 == id { print $2, $4 }'
}

proj_used_is() {
	[ "$(proj_kib "$1" "$2" | cut -d' ' -f1)" = "$3" ]
}

# refused_start MOUNT NAME: pmemtierd must refuse an enforcing tier there.
refused_start() {
	mkdir -p /run/pq-$2/state
	printf '[daemon]\nsocket = /run/pq-%s/s.sock\nstate_dir = /run/pq-%s/state\n[tier pq]\nbackend = fsdax\npath = %s/pmemtierd\ncapacity = 64M\nenforce = project-quota\n' \
		"$2" "$2" "$1" >/run/pq-$2/pmemtierd.conf
	vm_run "$PMEMTIERD" -n -f /run/pq-$2/pmemtierd.conf
	if timeout 20 "$PMEMTIERD" -d -f /run/pq-$2/pmemtierd.conf \
	    >/run/pq-$2/log 2>&1; then
		vm_fail "pmemtierd served an enforcing tier on $1 without prjquota"
	fi
	cat /run/pq-$2/log
}

vm_step "two fsdax namespaces: xfs, and ext4 made with -O quota,project"
nd_init_labels
X=$(nd_create fsdax 1G | json_str blockdev)
E=$(nd_create fsdax 1G | json_str blockdev)
mkdir -p /mnt/xfs /mnt/ext4
vm_run mkfs.xfs -q -f -m reflink=0 /dev/"$X"
vm_run mkfs.ext4 -q -F -b 4096 -I 256 -O quota,project /dev/"$E"

vm_step "without -o prjquota the daemon refuses the tier and names the fix"
vm_run mount -o dax /dev/"$X" /mnt/xfs
refused_start /mnt/xfs xfs
assert_grep "tier pq: enforce = project-quota, but .* at /mnt/xfs/pmemtierd: mount xfs with -o prjquota; ext4 needs mkfs.ext4 -O quota,project" \
	/run/pq-xfs/log
vm_run umount /mnt/xfs
# ext4 made with the project feature counts, but enforces only with prjquota.
vm_run mount -o dax /dev/"$E" /mnt/ext4
refused_start /mnt/ext4 ext4
assert_grep "project quota accounting is on and enforcement off on the filesystem at /mnt/ext4/pmemtierd: mount xfs with -o prjquota" \
	/run/pq-ext4/log
vm_run umount /mnt/ext4

vm_step "mounted -o dax,prjquota: pmemtierd serves both, audit off"
vm_run mount -o dax,prjquota /dev/"$X" /mnt/xfs
vm_run mount -o dax,prjquota /dev/"$E" /mnt/ext4
pmtd_start "
[daemon]
socket_mode = 0666
audit_interval = 0

[tier pqx]
backend = fsdax
path = /mnt/xfs/pmemtierd
capacity = 512M
enforce = project-quota
default = yes

[tier pqe]
backend = fsdax
path = /mnt/ext4/pmemtierd
capacity = 512M
enforce = project-quota

[quota hostile]
uid = $HOSTILE
tier = *
limit = 32M

[quota victim]
uid = $VICTIM
tier = *
limit = 64M
"

# hostile TIER MOUNT ERRNO: the hostile client on TIER takes 8 MiB, grows
# it to 30 MiB (within its 32 MiB rule: the kernel lets it), then to
# 64 MiB (the kernel must refuse with ERRNO), tries to move the file to
# project 0, then asks for 8 MiB more: 16 MiB granted is within the rule,
# but its files fill the project. It keeps what it got (HOSTILE_PID) until
# killed; HOSTILE_PROJ gets its project.
hostile() {
	_out=/tmp/hostile-$1.out
	"$LEASER" -u $HOSTILE -t "$1" -z 8M -n 2 -i -g 30M,64M -P 0 >"$_out" 2>&1 &
	HOSTILE_PID=$!
	_i=0
	until grep -q '^ready' "$_out"; do
		_i=$((_i + 1))
		if [ $_i -gt 600 ] || ! kill -0 $HOSTILE_PID 2>/dev/null; then
			cat "$_out"
			pmtd_log
			vm_fail "the hostile client on $1 never got ready"
		fi
		sleep 0.1
	done
	cat "$_out"
	assert_grep "^lease [0-9]+ $1 $((8 * MiB))\$" "$_out"
	HOSTILE_PROJ=$(sed -n 's/^projid [0-9]* \([0-9]*\)$/\1/p' "$_out" | head -n1)
	[ -n "$HOSTILE_PROJ" ] && [ "$HOSTILE_PROJ" -ge $BASE ] ||
		vm_fail "the lease file on $1 is in project '$HOSTILE_PROJ', not one from $BASE up"

	# Past the rule, the kernel says no; what it let the file take stays
	# within the limit and is exactly what the project is charged.
	assert_grep "^grow [0-9]+ $((30 * MiB)) ok allocated $((30 * MiB))\$" "$_out" \
		"growing the lease to 30 MiB on $1 failed"
	assert_grep "^grow [0-9]+ $((64 * MiB)) $3 allocated [0-9]+\$" "$_out" \
		"growing the lease to 64 MiB on $1 did not fail with $3"
	_alloc=$(sed -n 's/^grow .* allocated \([0-9]*\)$/\1/p' "$_out" | tail -n1)
	[ "$_alloc" -le $((33 * MiB)) ] && [ "$_alloc" -ge $((30 * MiB)) ] ||
		vm_fail "the grown lease on $1 holds $_alloc bytes (the limit is 32 MiB + 1 MiB)"
	# The hard limit is the rule's 32 MiB and 1 MiB of headroom.
	proj_kib "$2" "$HOSTILE_PROJ"
	assert_eq "$(proj_kib "$2" "$HOSTILE_PROJ")" "$((_alloc / 1024)) 33792" \
		"project $HOSTILE_PROJ on $2 does not show the lease's $_alloc bytes used of a 33 MiB hard limit"

	# The client does not own its file: it cannot leave the project.
	assert_grep "^setproj [0-9]+ 0 EPERM\$" "$_out" \
		"the client moved its lease file out of its project"

	# Its rule allows 16 of 32 MiB granted; its own files fill the project.
	assert_grep "^refused ERROR_QUOTA quota exceeded on tier $1: the filesystem project quota of uid $HOSTILE \\(project $HOSTILE_PROJ\\) refused a lease of 8 MiB: its files take .* of the 32 MiB its rule allows" \
		"$_out" "the second grant on $1 was not refused by the project quota"
	assert_grep "lease refused: quota exceeded on tier $1: the filesystem project quota of uid $HOSTILE" \
		$PMTD_DIR/log
}

# victim TIER: another uid still gets its whole 64 MiB there, in four
# leases in a project of its own (the filesystem does not refuse a bucket
# filled to its rule by grants).
victim() {
	_out=/tmp/victim-$1.out
	"$LEASER" -u $VICTIM -t "$1" -z 16M -n 4 -i -x >"$_out" 2>&1 ||
		{ cat "$_out"; pmtd_log; vm_fail "the victim was refused on $1"; }
	cat "$_out"
	[ "$(grep -c "^lease [0-9]* $1 $((16 * MiB))\$" "$_out")" = 4 ] ||
		vm_fail "the victim did not get its four leases on $1"
	[ "$(sed -n 's/^projid [0-9]* \([0-9]*\)$/\1/p' "$_out" | sort -u | wc -l)" = 1 ] ||
		vm_fail "the victim's leases on $1 are in several projects"
	_p=$(sed -n 's/^projid [0-9]* \([0-9]*\)$/\1/p' "$_out" | head -n1)
	[ "$_p" -ge $BASE ] && [ "$_p" != "$HOSTILE_PROJ" ] ||
		vm_fail "the victim's lease on $1 is in project '$_p' (the hostile's is $HOSTILE_PROJ)"
}

vm_step "xfs: growth stops at the project limit (ENOSPC, as xfs says it), grant refused"
hostile pqx /mnt/xfs ENOSPC
XPROJ=$HOSTILE_PROJ
XPID=$HOSTILE_PID
# A full filesystem would say ENOSPC too: it is not full.
[ "$(df -k /mnt/xfs | awk 'NR == 2 { print $4 }')" -gt $((512 * 1024)) ] ||
	vm_fail "/mnt/xfs is nearly full: the ENOSPC does not prove the project limit"
vm_step "xfs: the victim is served beside the full project"
victim pqx

vm_step "ext4: growth stops at the project limit with EDQUOT, grant refused"
hostile pqe /mnt/ext4 EDQUOT
EPROJ=$HOSTILE_PROJ
EPID=$HOSTILE_PID
vm_step "ext4: the victim is served beside the full project"
victim pqe

vm_step "a runtime rule change reaches the filesystem at once"
vm_run "$TIERCTL" quota set --uid $HOSTILE pqx 16M
proj_kib /mnt/xfs "$XPROJ"
assert_eq "$(proj_kib /mnt/xfs "$XPROJ" | cut -d' ' -f2)" 17408 \
	"project $XPROJ's hard limit did not follow tierctl quota set"

vm_step "the hostile client ends: its projects empty"
kill -TERM "$XPID" "$EPID"
wait "$XPID"
wait "$EPID"
vm_wait 10 proj_used_is /mnt/xfs "$XPROJ" 0 ||
	{ proj_kib /mnt/xfs "$XPROJ"; vm_fail "project $XPROJ still holds blocks after its leases ended"; }
vm_wait 10 proj_used_is /mnt/ext4 "$EPROJ" 0 ||
	{ proj_kib /mnt/ext4 "$EPROJ"; vm_fail "project $EPROJ still holds blocks after its leases ended"; }
vm_wait 10 all_granted_zero || { "$TIERCTL" tiers; vm_fail "bytes still granted"; }
pmtd_alive

vm_step "the daemon stops; the limits stay (docs/pmemtierd.conf.5)"
pmtd_stop
assert_eq "$(proj_kib /mnt/xfs "$XPROJ")" "0 17408" \
	"project $XPROJ lost its limit when the daemon stopped"
assert_eq "$(proj_kib /mnt/ext4 "$EPROJ")" "0 33792" \
	"project $EPROJ lost its limit when the daemon stopped"
vm_run umount /mnt/xfs
vm_run umount /mnt/ext4
vm_pass
