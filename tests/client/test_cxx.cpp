// SPDX-License-Identifier: BSD-3-Clause
//
// The C++ allocators (pmem_allocator.h, memkind_allocator.h,
// fixed_allocator.h) with standard
// containers, built with g++, in one mode per run (see tmode.h).
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <csetjmp>
#include <cstdint>
#include <list>
#include <map>
#include <new>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include <cmocka.h>
}

#include <sys/mman.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fixed_allocator.h>
#include <hbw_allocator.h>
#include <memkind.h>
#include <memkind_allocator.h>
#include <pmem_allocator.h>
#include <pmemtier.h>

extern "C" {
#include "tmode.h"
#include "tutil.h"
}

using pmem_string = std::basic_string<char, std::char_traits<char>,
    libmemkind::pmem::allocator<char>>;

static void
test_vector(void **)
{
	libmemkind::pmem::allocator<int>		a(tm.dir, 0);
	std::vector<int, libmemkind::pmem::allocator<int>> v(a);
	long long					sum = 0;

	for (int i = 0; i < 100000; i++)
		v.push_back(i);
	assert_ptr_equal(memkind_detect_kind(v.data()), a.kind());
	for (int x : v)
		sum += x;
	assert_true(sum == 100000LL * 99999 / 2);
	v.resize(10);
	v.shrink_to_fit();
	assert_int_equal(v.size(), 10);
	assert_ptr_equal(memkind_detect_kind(v.data()), a.kind());
}

static void
test_list_of_strings(void **)
{
	libmemkind::pmem::allocator<char>	a(std::string(tm.dir), 64 << 20,
	    libmemkind::allocation_policy::CONSERVATIVE);
	libmemkind::pmem::allocator<pmem_string> la(a);
	std::list<pmem_string, libmemkind::pmem::allocator<pmem_string>> l(la);

	for (int i = 0; i < 1000; i++)
		l.emplace_back(std::string(100, char('a' + i % 26)).c_str(), a);
	assert_int_equal(l.size(), 1000);
	for (auto &s : l) {
		assert_int_equal(s.size(), 100);
		assert_ptr_equal(memkind_detect_kind((void *)s.data()),
		    a.kind());
	}
	assert_true(la == a);	// a rebind shares the kind
	l.clear();
}

static void
test_map(void **)
{
	using pair_t = std::pair<const int, double>;
	libmemkind::pmem::allocator<pair_t>	a(tm.dir, 0);
	std::map<int, double, std::less<int>,
	    libmemkind::pmem::allocator<pair_t>> m(a);
	libmemkind::pmem::allocator<pair_t>	other(tm.dir, 0);

	for (int i = 0; i < 10000; i++)
		m[i] = i / 2.0;
	for (int i = 0; i < 10000; i += 97)
		assert_true(m.at(i) == i / 2.0);
	assert_true(a != other);	// two kinds
	m.erase(m.begin(), m.find(5000));
	assert_int_equal(m.size(), 5000);
}

static void
test_static_kind(void **)
{
	libmemkind::static_kind::allocator<long> d(libmemkind::kinds::DEFAULT);
	std::vector<long, libmemkind::static_kind::allocator<long>> v(d);
	libmemkind::static_kind::allocator<long> hbw(libmemkind::kinds::HBW);
	bool threw = false;

	for (long i = 0; i < 1000; i++)
		v.push_back(i);
	assert_ptr_equal(memkind_detect_kind(v.data()), MEMKIND_DEFAULT);
	try {
		(void)hbw.allocate(10);
	} catch (const std::bad_alloc &) {
		threw = true;
	}
	assert_true(threw);
	std::map<int, int, std::less<int>,
	    libmemkind::static_kind::allocator<std::pair<const int, int>>>
	    m(libmemkind::static_kind::allocator<std::pair<const int, int>>(
		libmemkind::kinds::REGULAR));
	m[1] = 2;
	assert_int_equal(m[1], 2);
}

static void
test_errors_and_lifetime(void **)
{
	int	fds = tu_count_fds();
	bool	threw = false;

	try {
		libmemkind::pmem::allocator<int> bad(tm.dir, 1);
	} catch (const std::invalid_argument &) {
		threw = true;
	}
	assert_true(threw);
	{
		libmemkind::pmem::allocator<int> a(tm.dir, 0);
		libmemkind::pmem::allocator<int> b = a;
		int *p = b.allocate(1000);

		p[999] = 1;
		b.deallocate(p, 1000);
		assert_true(fds < tu_count_fds());
	}
	// The last allocator destroyed the kind and closed its files.
	assert_int_equal(tu_count_fds(), fds);
}

static void
test_fixed_vector(void **)
{
	const std::size_t	 len = 32 << 20;
	void			*m = mmap(nullptr, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char			*lo = static_cast<char *>(m);
	std::size_t		 off;
	bool			 threw = false;

	assert_true(m != MAP_FAILED);
	{
		libmemkind::fixed::allocator<int> a(m, len);
		std::vector<int, libmemkind::fixed::allocator<int>> v(a);

		for (int i = 0; i < 1000000; i++)
			v.push_back(i);
		auto *d = reinterpret_cast<char *>(v.data());
		assert_true(d >= lo && d + v.size() * sizeof(int) <= lo + len);
		assert_ptr_equal(memkind_detect_kind(v.data()), a.kind());
		off = static_cast<std::size_t>(d - lo);
		// Only the range: 8 M ints do not fit in 32 MiB.
		try {
			v.resize(8 << 20);
		} catch (const std::bad_alloc &) {
			threw = true;
		}
		assert_true(threw);
		assert_int_equal(v[999999], 999999);
	}
	// The last allocator destroyed the kind, not the mapping.
	assert_int_equal(reinterpret_cast<int *>(lo + off)[999999], 999999);
	threw = false;
	try {
		libmemkind::fixed::allocator<int> bad(nullptr, len);
	} catch (const std::invalid_argument &) {
		threw = true;
	}
	assert_true(threw);
	assert_int_equal(munmap(m, len), 0);
}

// Counts its constructions and destructions; holds a string so that a
// construct() that did not forward its arguments would show.
struct counted {
	static int	ctors;
	static int	dtors;
	int		n;
	std::string	s;

	counted(int n_, std::string s_) : n(n_), s(std::move(s_)) { ctors++; }
	counted(const counted &o) : n(o.n), s(o.s) { ctors++; }
	~counted() { dtors++; }
};
int counted::ctors;
int counted::dtors;

// memkind's ConstructDestroy, with the calls counted and the objects read.
template <class Alloc>
static void
construct_destroy(const Alloc &proto)
{
	typename Alloc::template rebind<counted>::other	a(proto);
	typename Alloc::template rebind<int>::other	ai(proto);
	const std::string				long_s(200, 'x');

	counted::ctors = counted::dtors = 0;
	counted *p = a.allocate(2);
	assert_ptr_equal(memkind_detect_kind(p), a.kind());
	a.construct(p, 7, std::string("seven"));
	a.construct(p + 1, p[0]);
	assert_int_equal(counted::ctors, 2);
	assert_int_equal(counted::dtors, 0);
	assert_int_equal(p[0].n, 7);
	assert_string_equal(p[0].s.c_str(), "seven");
	assert_int_equal(p[1].n, 7);
	assert_string_equal(p[1].s.c_str(), "seven");
	a.destroy(p + 1);
	assert_int_equal(counted::dtors, 1);
	a.construct(p + 1, 8, long_s);
	assert_int_equal(counted::ctors, 3);
	assert_true(p[1].s == long_s);
	a.destroy(p);
	a.destroy(p + 1);
	assert_int_equal(counted::dtors, 3);
	a.deallocate(p, 2);

	int *i = ai.allocate(1);
	ai.construct(i, 42);
	assert_int_equal(*i, 42);
	ai.construct(i);	// value-initialised
	assert_int_equal(*i, 0);
	ai.destroy(i);
	ai.deallocate(i, 1);
}

static void
test_construct_destroy(void **)
{
	const std::size_t	 len = 16 << 20;
	void			*m = mmap(nullptr, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	construct_destroy(libmemkind::pmem::allocator<char>(tm.dir, 0));
	construct_destroy(libmemkind::static_kind::allocator<char>(
	    libmemkind::kinds::DEFAULT));
	construct_destroy(libmemkind::fixed::allocator<char>(m, len));
	assert_int_equal(munmap(m, len), 0);
}

// No high-bandwidth memory: ordinary memory under the default policy,
// std::bad_alloc under BIND (in a child: the policy is fixed per process).
static void
test_hbw_allocator(void **)
{
	hbw::allocator<int>			a;
	std::vector<int, hbw::allocator<int>>	v(a);
	hbw::allocator<counted>			c(a);
	pid_t					pid;
	int					status;

	// Before this process's first hbw allocation fixes the policy.
	if ((pid = fork()) == 0) {
		bool threw = false;

		if (hbw_set_policy(HBW_POLICY_BIND) != 0)
			_exit(2);
		try {
			(void)hbw::allocator<int>().allocate(10);
		} catch (const std::bad_alloc &) {
			threw = true;
		}
		_exit(threw ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (int i = 0; i < 100000; i++)
		v.push_back(i);
	assert_int_equal(v[99999], 99999);
	assert_ptr_equal(memkind_detect_kind(v.data()), MEMKIND_DEFAULT);
	assert_true(a == c && !(a != c));
	counted::ctors = counted::dtors = 0;
	counted *p = c.allocate(1);
	c.construct(p, 3, std::string("three"));
	assert_int_equal(p->n, 3);
	c.destroy(p);
	c.deallocate(p, 1);
	assert_int_equal(counted::ctors, 1);
	assert_int_equal(counted::dtors, 1);
	assert_int_equal(hbw_get_policy(), HBW_POLICY_PREFERRED);
	assert_int_equal(hbw_set_policy(HBW_POLICY_BIND), EPERM);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_list_of_strings),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_static_kind),
		cmocka_unit_test(test_errors_and_lifetime),
		cmocka_unit_test(test_fixed_vector),
		cmocka_unit_test(test_construct_destroy),
		cmocka_unit_test(test_hbw_allocator),
	};
	int	rc;

	if ((rc = tmode_setup(argc, argv, nullptr)) != 0)
		return rc;
	rc = cmocka_run_group_tests_name("client_cxx", tests, nullptr,
	    nullptr);
	return tmode_teardown(rc != 0);
}
