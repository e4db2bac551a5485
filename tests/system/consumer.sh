#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# system_consumer: a program outside this tree builds against the installed
# libpmemtier (DESTDIR) twice, through pkg-config and through
# find_package(pmemtier), links, and runs: its memkind calls work and its
# malloc is jemalloc's; ldd lists the installed library.
. "$(dirname "$0")/syslib.sh" || exit 1
pmt_sys_setup
src=$PMEMTIER_SOURCE_DIR
[ -f "$src/client/pmemtier.pc.in" ] ||
    pmt_skip "the client library provides no pmemtier.pc yet"
[ -f "$src/client/pmemtierConfig.cmake.in" ] ||
    pmt_skip "the client library provides no CMake package config yet"
command -v pkg-config >/dev/null || pmt_skip "pkg-config not installed"
grep -q '^PMEMTIER_SANITIZE:BOOL=ON$' "$PMEMTIER_BUILD_DIR/CMakeCache.txt" &&
    pmt_skip "this build has PMEMTIER_SANITIZE=ON: the installed library needs" \
	"the sanitizer runtimes, which an outside consumer does not link"
pmt_install
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' \
    "$PMEMTIER_BUILD_DIR/CMakeCache.txt")
case $libdir in /*) ;; *) libdir=$PREFIX/$libdir ;; esac

mkdir -p "$PMT_DIR/consumer"
cat >"$PMT_DIR/consumer/consumer.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <memkind.h>
#include <pmemtier.h>

/* Did plain malloc() go to jemalloc? Its per-thread counter says. */
static int
malloc_is_jemalloc(void)
{
	int		(*ctl)(const char *, void *, size_t *, void *, size_t);
	uint64_t	 a0, a1;
	size_t		 sz = sizeof(a0);
	void		*q, *sym = dlsym(RTLD_DEFAULT, "mallctl");

	if (sym == NULL)
		return 0;
	memcpy(&ctl, &sym, sizeof(sym));
	if (ctl("thread.allocated", &a0, &sz, NULL, 0) != 0)
		return 0;
	q = malloc(100000);
	if (ctl("thread.allocated", &a1, &sz, NULL, 0) != 0)
		return 0;
	free(q);
	return a1 - a0 >= 100000;
}

int
main(void)
{
	char	*p;

	p = memkind_malloc(MEMKIND_DEFAULT, 64);
	if (p == NULL)
		return 1;
	strcpy(p, "consumer");
	printf("%s %s %zu %d\n", p, pmemtier_version(),
	    memkind_malloc_usable_size(MEMKIND_DEFAULT, p) >= 64 ? 1 : 0,
	    malloc_is_jemalloc());
	memkind_free(MEMKIND_DEFAULT, p);
	return 0;
}
C
cat >"$PMT_DIR/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(pmemtier 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE pmemtier::pmemtier)
CM
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' \
    "$PMEMTIER_BUILD_DIR/CMakeCache.txt")
# A daemon socket that does not exist: the program must not reach one.
export PMEMTIER_SOCKET=$PMT_DIR/no-daemon.sock
export LD_LIBRARY_PATH=$DEST$libdir

pmt_note "pkg-config"
export PKG_CONFIG_PATH=$DEST$libdir/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$DEST
flags=$(pkg-config --cflags --libs pmemtier) ||
    pmt_fail "pkg-config pmemtier failed"
echo "pkg-config: $flags"
expect_eq "pkg-config modversion" "$(pkg-config --modversion pmemtier)" \
    "$version"
# shellcheck disable=SC2086
cc -o "$PMT_DIR/consumer/pc" "$PMT_DIR/consumer/consumer.c" $flags ||
    pmt_fail "build through pkg-config failed"
out=$("$PMT_DIR/consumer/pc") || pmt_fail "pkg-config consumer exited $?"
expect_eq "pkg-config consumer output (malloc is jemalloc's)" "$out" \
    "consumer $version 1 1"
ldd "$PMT_DIR/consumer/pc" | grep -q "$DEST$libdir/libpmemtier.so" ||
    pmt_fail "consumer did not load the installed library"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

pmt_note "find_package(pmemtier)"
cmake -S "$PMT_DIR/consumer" -B "$PMT_DIR/consumer/build" \
    -DCMAKE_PREFIX_PATH="$DEST$PREFIX" >"$PMT_DIR/cmake.log" 2>&1 ||
    pmt_fail "configure with find_package failed: $(tail -20 "$PMT_DIR/cmake.log")"
cmake --build "$PMT_DIR/consumer/build" >>"$PMT_DIR/cmake.log" 2>&1 ||
    pmt_fail "build with find_package failed: $(tail -20 "$PMT_DIR/cmake.log")"
out=$("$PMT_DIR/consumer/build/consumer") ||
    pmt_fail "find_package consumer exited $?"
expect_eq "find_package consumer output (malloc is jemalloc's)" "$out" \
    "consumer $version 1 1"

# Packaging tools and operators list a library's dependencies with ldd
# (glibc's loader once aborted on libpmemtier, an auxiliary filter then).
pmt_note "ldd of the installed library"
out=$(ldd "$DEST$libdir/libpmemtier.so.0" 2>&1) ||
    pmt_fail "ldd libpmemtier.so.0 failed: $out"
echo "$out"
echo "$out" | grep -q "libjemalloc.so" ||
    pmt_fail "ldd libpmemtier.so.0 does not list libjemalloc"

# The version script names what stays local instead of "local: *" (the
# malloc family is exported unversioned): nothing else may leak out.
pmt_note "exported symbols"
extra=$(nm -D --defined-only "$DEST$libdir/libpmemtier.so.0" |
    awk '{ print $3 }' | sed 's/@.*//' |
    grep -v -E '^(memkind_|MEMKIND_|hbw_|memtier_|pmemtier_[a-z]|PMEMTIER_)' |
    grep -v -x -E 'malloc|free|calloc|realloc|posix_memalign|aligned_alloc|memalign|valloc|malloc_usable_size')
[ -z "$extra" ] || pmt_fail "libpmemtier.so.0 exports more than its API:" $extra
echo "exports: the API and the malloc family only"
