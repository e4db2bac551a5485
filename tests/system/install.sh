#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_install: `cmake --install` into a DESTDIR puts every file where a
# distribution package would, checked file by file: daemon in sbin, tierctl
# in bin, the library with its soname links, headers, pkg-config file,
# CMake package config, systemd units, sysusers.d/tmpfiles.d snippets, the
# example config and the man pages. Nothing lands outside the prefix except
# under DESTDIR, and the units name the paths the files were installed to.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_sys_setup
pmt_install

src=$PMEMTIER_SOURCE_DIR
cache=$PMEMTIER_BUILD_DIR/CMakeCache.txt
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$cache")
sysconfdir=$(sed -n 's/^PMEMTIER_DEFAULT_CONFIG:STRING=//p' "$cache")
unitdir=$(sed -n 's/^PMEMTIER_SYSTEMD_UNITDIR:PATH=//p' "$cache")
sysusersdir=$(sed -n 's/^PMEMTIER_SYSUSERSDIR:PATH=//p' "$cache")
tmpfilesdir=$(sed -n 's/^PMEMTIER_TMPFILESDIR:PATH=//p' "$cache")
case $libdir in /*) ;; *) libdir=$PREFIX/$libdir ;; esac
expected=()

want_file()
{
	[ -f "$DEST$1" ] || pmt_fail "not installed: $1"
	expected+=("$1")
	echo "ok: installed $1"
}

want_exec()
{
	want_file "$1"
	[ -x "$DEST$1" ] || pmt_fail "not executable: $1"
}

# want_link LINK TARGET: a symlink in the same directory.
want_link()
{
	[ -L "$DEST$1" ] || pmt_fail "not a symlink: $1"
	expect_eq "link $1" "$(readlink "$DEST$1")" "$2"
	expected+=("$1")
}

[ -n "${PMEMTIERD:-}" ] && want_exec "$PREFIX/sbin/pmemtierd"
[ -n "${TIERCTL:-}" ] && want_exec "$PREFIX/bin/tierctl"

# The library: real file, soname link, development link.
if [ -f "$src/client/CMakeLists.txt" ] &&
    grep -q 'add_library(pmemtier SHARED' "$src/client/CMakeLists.txt"; then
	real=$(cd "$DEST$libdir" && ls libpmemtier.so.*.*.* 2>/dev/null | head -1)
	[ -n "$real" ] || pmt_fail "no libpmemtier.so.X.Y.Z in $libdir"
	want_file "$libdir/$real"
	soname=$(objdump -p "$DEST$libdir/$real" | awk '$1 == "SONAME" { print $2 }')
	expect_match "soname" "$soname" '^libpmemtier\.so\.[0-9]+$'
	want_link "$libdir/$soname" "$real"
	want_link "$libdir/libpmemtier.so" "$soname"
	for h in "$src"/client/include/pmemtier/*.h; do
		want_file "$PREFIX/include/pmemtier/$(basename "$h")"
	done
	want_file "$libdir/pkgconfig/pmemtier.pc"
	for f in pmemtierConfig.cmake pmemtierConfigVersion.cmake \
	    pmemtierTargets.cmake; do
		want_file "$libdir/cmake/pmemtier/$f"
	done
	for f in "$DEST$libdir"/cmake/pmemtier/pmemtierTargets-*.cmake; do
		want_file "${f#"$DEST"}"
	done
	# The .pc file may spell libdir through ${prefix}; what counts is
	# what pkg-config makes of it.
	pclibdir=$(PKG_CONFIG_PATH=$DEST$libdir/pkgconfig \
	    pkg-config --variable=libdir pmemtier)
	[ "$pclibdir" = "$libdir" ] ||
	    pmt_fail "pmemtier.pc: libdir is $pclibdir, want $libdir"
	echo "ok: pmemtier.pc libdir = $libdir"
	# The preload library for unmodified programs, and its launcher.
	if [ -f "$src/client/preload/CMakeLists.txt" ] ||
	    grep -q 'pmemtier_preload' "$src/client/CMakeLists.txt"; then
		want_file "$libdir/libpmemtier-preload.so"
		want_exec "$PREFIX/bin/pmemtier-run"
	fi
else
	echo "note: no client library in this tree; its files not checked"
fi

want_file "$unitdir/pmemtierd.service"
want_file "$unitdir/pmemtierd.socket"
want_file "$unitdir/pmemtierd-metrics.socket"
want_file "$sysusersdir/pmemtier.conf"
want_file "$tmpfilesdir/pmemtier.conf"
if [ -f "$src/docs/examples/pmemtierd.conf" ]; then
	want_file "$sysconfdir"
	cmp -s "$src/docs/examples/pmemtierd.conf" "$DEST$sysconfdir" ||
	    pmt_fail "installed config differs from docs/examples/pmemtierd.conf"
else
	echo "note: docs/examples/pmemtierd.conf does not exist yet"
fi
for m in "$src"/docs/*.[1-8]; do
	[ -f "$m" ] || continue
	sec=${m##*.}
	want_file "$PREFIX/share/man/man$sec/$(basename "$m")"
done
want_file "$PREFIX/share/man/man8/tierctl.8"

# The units point at the installed files.
svc=$(cat "$DEST$unitdir/pmemtierd.service")
expect_match "ExecStart" "$svc" "^ExecStart=$PREFIX/sbin/pmemtierd -d -f $sysconfdir\$"
sock=$(cat "$DEST$unitdir/pmemtierd.socket")
def_sock=$(sed -n 's/^PMEMTIER_DEFAULT_SOCKET:STRING=//p' "$cache")
expect_match "ListenSequentialPacket" "$sock" \
    "^ListenSequentialPacket=$def_sock\$"
expect_match "sysusers group" "$(cat "$DEST$sysusersdir/pmemtier.conf")" \
    '^g pmemtier -$'

# Every installed file is one we expected (nothing stray), and all of them
# are under DESTDIR + prefix or the configured absolute directories.
while IFS= read -r f; do
	f=${f#"$DEST"}
	found=0
	for e in "${expected[@]}"; do
		[ "$e" = "$f" ] && found=1 && break
	done
	[ "$found" -eq 1 ] || pmt_fail "unexpected file installed: $f (if it is meant to be, add it to tests/system/install.sh)"
done < <(find "$DEST" \( -type f -o -type l \))
echo "ok: ${#expected[@]} files, none unexpected"
