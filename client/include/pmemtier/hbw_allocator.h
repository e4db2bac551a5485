// SPDX-License-Identifier: BSD-3-Clause
//
// hbw::allocator<T>: a stateless standard C++ allocator over hbw_malloc()
// and hbw_free(), so it follows the hbw policy (hbwmalloc.h): without
// high-bandwidth memory, ordinary memory under HBW_POLICY_PREFERRED and
// std::bad_alloc under the others. Same shape as memkind's hbw_allocator.h;
// header-only over hbwmalloc.h.
#ifndef PMEMTIER_HBW_ALLOCATOR_H
#define PMEMTIER_HBW_ALLOCATOR_H

#include <cstddef>
#include <limits>
#include <new>
#include <utility>

#include "hbwmalloc.h"

namespace hbw {

template <class T>
class allocator {
public:
	using value_type = T;
	using pointer = T *;
	using const_pointer = const T *;
	using reference = T &;
	using const_reference = const T &;
	using size_type = std::size_t;
	using difference_type = std::ptrdiff_t;

	template <class U> struct rebind {
		using other = allocator<U>;
	};

	allocator() noexcept {}
	template <class U>
	allocator(const allocator<U> &) noexcept {}

	pointer address(reference x) const noexcept { return &x; }
	const_pointer address(const_reference x) const noexcept { return &x; }

	// The hint is ignored; kept for code written to memkind's signature.
	pointer allocate(size_type n, const void * = nullptr)
	{
		if (n > max_size())
			throw std::bad_alloc();
		void *p = hbw_malloc(n * sizeof(T));
		if (p == nullptr)
			throw std::bad_alloc();
		return static_cast<pointer>(p);
	}
	void deallocate(pointer p, size_type) noexcept { hbw_free(p); }
	size_type max_size() const noexcept
	{
		return std::numeric_limits<size_type>::max() / sizeof(T);
	}

	// memkind's construct(p, value) and destroy(p), as a C++11 allocator
	// has them: any constructor arguments are forwarded.
	template <class U, class... Args>
	void construct(U *p, Args &&...args)
	{
		::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
	}
	template <class U>
	void destroy(U *p)
	{
		p->~U();
	}
};

// Stateless: any two allocators free each other's memory.
template <class T, class U>
bool operator==(const allocator<T> &, const allocator<U> &) noexcept
{
	return true;
}
template <class T, class U>
bool operator!=(const allocator<T> &, const allocator<U> &) noexcept
{
	return false;
}

} // namespace hbw

#endif // PMEMTIER_HBW_ALLOCATOR_H
