/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the CXL discovery's decisions (daemon/discovery_cxl_decide.c)
 * on the data a real device gives: the structs below are what
 * `discovery_probe cxl` printed in the test guest (QEMU 7.2 cxl-type3,
 * 512 MiB persistent, one host bridge with two root ports, a 4 GiB window)
 * before a region, with a region and no namespace, with a devdax
 * namespace, and with the region disabled. Variations (a volatile-only
 * device, a window that cannot map pmem, a region left half-built) are
 * edits of that data, as a real machine would give them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "discovery.h"
#include "discovery_cxl.h"

static struct discovery_cxl_memdev	mem;
static struct discovery_cxl_decoder	dec;
static struct discovery_cxl_region	reg;
static struct discovery_cxl		cxl;

/*
 * memdev mem0 host=0000:0d:00.0 bus=root0 port=port1 endpoint=endpoint2
 *   serial=0 ram=0 pmem=536870912 numa_node=-1 enabled=1
 *   decoders=decoder0.0 regions=-
 * decoder decoder0.0 bus=root0 resource=0x110000000 size=4294967296
 *   pmem_capable=1 ram_capable=1 targets=1 locked=0
 */
static int
setup(void **state)
{
	memset(&mem, 0, sizeof(mem));
	strcpy(mem.name, "mem0");
	strcpy(mem.host, "0000:0d:00.0");
	strcpy(mem.bus, "root0");
	strcpy(mem.port, "port1");
	strcpy(mem.endpoint, "endpoint2");
	mem.pmem_size = 536870912;
	mem.numa_node = -1;
	mem.enabled = 1;
	mem.endpoint_enabled = 1;
	strcpy(mem.decoders, "decoder0.0");

	memset(&dec, 0, sizeof(dec));
	strcpy(dec.name, "decoder0.0");
	strcpy(dec.bus, "root0");
	dec.resource = 0x110000000ULL;
	dec.size = 4294967296ULL;
	dec.pmem_capable = 1;
	dec.ram_capable = 1;
	dec.nr_targets = 1;

	memset(&cxl, 0, sizeof(cxl));
	cxl.memdev = &mem;
	cxl.nmemdev = 1;
	cxl.decoder = &dec;
	cxl.ndecoder = 1;
	return 0;
}

/*
 * After cxl create-region -m -t pmem -d decoder0.0 -w 1 mem0:
 * region region0 decoder=decoder0.0 type=pmem resource=0x110000000
 *   size=536870912 ways=1 enabled=1 committed=1 memdevs=mem0
 *   nd_region=region0 devices=- target_node=1
 */
static void
with_region(void)
{
	memset(&reg, 0, sizeof(reg));
	strcpy(reg.name, "region0");
	strcpy(reg.decoder, "decoder0.0");
	reg.mode = DISCOVERY_CXL_PMEM;
	reg.resource = 0x110000000ULL;
	reg.size = 536870912;
	reg.ways = 1;
	reg.enabled = 1;
	reg.committed = 1;
	reg.nr_mappings = 1;
	strcpy(reg.memdevs, "mem0");
	strcpy(reg.nd_region, "region0");
	reg.nd_enabled = 1;
	reg.target_node = 1;
	cxl.region = &reg;
	cxl.nregion = 1;
	strcpy(mem.regions, "region0");
}

static void
test_fresh_memdev_is_a_candidate(void **state)
{
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_CANDIDATE);
	/* It says both ways to get a region, with the decoder to use. */
	assert_non_null(strstr(mem.reason, "region = pmem in [device mem0]"));
	assert_non_null(strstr(mem.reason,
	    "cxl create-region -m -t pmem -d decoder0.0 mem0"));
}

static void
test_no_capacity_in_the_wanted_mode(void **state)
{
	mem.want = DISCOVERY_CXL_RAM;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	assert_string_equal(mem.reason, "mem0 has no ram capacity (ram 0 MiB, "
	    "pmem 512 MiB): set region = pmem in [device mem0]");

	/* A volatile-only device asked for pmem: the mirror case. */
	mem.want = DISCOVERY_CXL_PMEM;
	mem.ram_size = mem.pmem_size;
	mem.pmem_size = 0;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(mem.reason, "mem0 has no pmem capacity"));
	assert_non_null(strstr(mem.reason, "set region = ram"));
}

static void
test_wanted_mode_with_capacity(void **state)
{
	mem.want = DISCOVERY_CXL_PMEM;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_CANDIDATE);
	assert_non_null(strstr(mem.reason, "creates a pmem region on mem0 "
	    "through decoder0.0"));
	assert_string_equal(mem.root, "decoder0.0");
}

static void
test_window_that_cannot_map_the_mode(void **state)
{
	dec.pmem_capable = 0;
	mem.want = DISCOVERY_CXL_PMEM;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(mem.reason, "no root decoder reaching mem0 can "
	    "map pmem"));
	/* Nothing asked and no mode possible: skipped as well. */
	mem.want = DISCOVERY_CXL_NONE;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	/* A decoder that does not reach the memdev does not count. */
	dec.pmem_capable = 1;
	strcpy(mem.decoders, "decoder9.0");
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	/* Targets unresolved: any root decoder of its bus will do. */
	mem.decoders[0] = '\0';
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_CANDIDATE);
}

static void
test_disabled_memdev_or_no_endpoint(void **state)
{
	mem.enabled = 0;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(mem.reason, "cxl enable-memdev mem0"));
	mem.enabled = 1;
	mem.endpoint[0] = '\0';
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(mem.reason, "no enabled endpoint port"));
	assert_non_null(strstr(mem.reason, "cxl list -P -m mem0"));
}

static void
test_no_capacity_at_all(void **state)
{
	mem.pmem_size = 0;
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_SKIPPED);
	assert_string_equal(mem.reason, "mem0 has no capacity (cxl list -m "
	    "mem0)");
}

static void
test_region_without_namespace(void **state)
{
	with_region();
	discovery_cxl_decide(&cxl);
	assert_int_equal(mem.state, DISCOVERY_USABLE);
	assert_string_equal(mem.reason, "");
	assert_int_equal(reg.state, DISCOVERY_CANDIDATE);
	assert_non_null(strstr(reg.reason, "ndctl create-namespace -r region0 "
	    "-m devdax"));
}

/* After ndctl create-namespace -m devdax -r region0: devices=dax0.0. */
static void
test_region_with_devdax(void **state)
{
	with_region();
	strcpy(reg.devices, "dax0.0");
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_USABLE);
	assert_string_equal(reg.reason, "");
}

/* After cxl disable-region region0: enabled=0, nd_region=- (libnvdimm's
 * region goes with it), target_node=-1. */
static void
test_region_disabled(void **state)
{
	with_region();
	reg.enabled = 0;
	reg.nd_region[0] = '\0';
	reg.target_node = -1;
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_SKIPPED);
	assert_string_equal(reg.reason, "region0 is disabled: cxl "
	    "enable-region region0, then rescan");
}

/*
 * After cxl disable-region and cxl enable-region: the CXL region is
 * enabled again, its libnvdimm region comes back disabled (ndctl list -R
 * -i: "state":"disabled"), the namespace on the labels hidden.
 */
static void
test_region_reenabled_nd_region_disabled(void **state)
{
	with_region();
	reg.nd_enabled = 0;
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(reg.reason, "region0: its libnvdimm region "
	    "region0 is disabled: ndctl enable-region region0, then rescan"));
}

static void
test_region_not_committed(void **state)
{
	with_region();
	reg.committed = 0;
	reg.enabled = 0;
	reg.nr_mappings = 0;
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(reg.reason, "decoders not committed (0 of 1 "
	    "targets mapped)"));
	assert_non_null(strstr(reg.reason, "cxl destroy-region -f region0"));
}

static void
test_pmem_region_without_nd_region(void **state)
{
	with_region();
	reg.nd_region[0] = '\0';
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(reg.reason, "is cxl_pmem loaded?"));
}

/* QEMU 7.2 cannot emulate volatile memory: a ram region is made up from
 * what a 6.3+ kernel shows (regionN/dax_regionN/daxN.0). */
static void
test_ram_region(void **state)
{
	with_region();
	reg.mode = DISCOVERY_CXL_RAM;
	reg.nd_region[0] = '\0';
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_SKIPPED);
	assert_non_null(strstr(reg.reason, "dax_cxl"));
	strcpy(reg.devices, "dax1.0");
	discovery_cxl_decide(&cxl);
	assert_int_equal(reg.state, DISCOVERY_USABLE);
}

static void
test_modes_and_lookups(void **state)
{
	enum discovery_cxl_mode	m;
	char			line[1024];

	assert_int_equal(discovery_cxl_mode_parse("pmem", &m), 0);
	assert_int_equal(m, DISCOVERY_CXL_PMEM);
	assert_int_equal(discovery_cxl_mode_parse("RAM", &m), 0);
	assert_int_equal(m, DISCOVERY_CXL_RAM);
	assert_int_equal(discovery_cxl_mode_parse("volatile", &m), 0);
	assert_int_equal(m, DISCOVERY_CXL_RAM);
	assert_int_equal(discovery_cxl_mode_parse("fsdax", &m), -1);
	assert_string_equal(discovery_cxl_mode_name(DISCOVERY_CXL_PMEM),
	    "pmem");
	assert_ptr_equal(discovery_cxl_memdev_find(&cxl, "mem0"), &mem);
	assert_null(discovery_cxl_memdev_find(&cxl, "mem1"));
	assert_ptr_equal(discovery_cxl_decoder_find(&cxl, "decoder0.0"), &dec);
	discovery_cxl_decide(&cxl);
	discovery_cxl_memdev_describe(&mem, line, sizeof(line));
	assert_non_null(strstr(line, "mem0 host=0000:0d:00.0 bus=root0 "
	    "port=port1 endpoint=endpoint2 serial=0 ram=0 pmem=536870912"));
	assert_non_null(strstr(line, "state=candidate"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fresh_memdev_is_a_candidate, setup),
		cmocka_unit_test_setup(test_no_capacity_in_the_wanted_mode,
		    setup),
		cmocka_unit_test_setup(test_wanted_mode_with_capacity, setup),
		cmocka_unit_test_setup(test_window_that_cannot_map_the_mode,
		    setup),
		cmocka_unit_test_setup(test_disabled_memdev_or_no_endpoint,
		    setup),
		cmocka_unit_test_setup(test_no_capacity_at_all, setup),
		cmocka_unit_test_setup(test_region_without_namespace, setup),
		cmocka_unit_test_setup(test_region_with_devdax, setup),
		cmocka_unit_test_setup(test_region_disabled, setup),
		cmocka_unit_test_setup(test_region_reenabled_nd_region_disabled,
		    setup),
		cmocka_unit_test_setup(test_region_not_committed, setup),
		cmocka_unit_test_setup(test_pmem_region_without_nd_region,
		    setup),
		cmocka_unit_test_setup(test_ram_region, setup),
		cmocka_unit_test_setup(test_modes_and_lookups, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
