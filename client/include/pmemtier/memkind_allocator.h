// SPDX-License-Identifier: BSD-3-Clause
//
// libmemkind::static_kind::allocator<T>: a standard C++ allocator over one
// of the static kinds (MEMKIND_DEFAULT, MEMKIND_DAX_KMEM, ...), chosen by
// libmemkind::kinds. Same shape and enum values as memkind's
// memkind_allocator.h; header-only over memkind.h.
#ifndef PMEMTIER_MEMKIND_ALLOCATOR_H
#define PMEMTIER_MEMKIND_ALLOCATOR_H

#include <cstddef>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "memkind.h"

namespace libmemkind {

enum class kinds {
	DEFAULT = 0,
	HUGETLB = 1,
	INTERLEAVE = 2,
	HBW = 3,
	HBW_ALL = 4,
	HBW_HUGETLB = 5,
	HBW_ALL_HUGETLB = 6,
	HBW_PREFERRED = 7,
	HBW_PREFERRED_HUGETLB = 8,
	HBW_INTERLEAVE = 9,
	REGULAR = 10,
	DAX_KMEM = 11,
	DAX_KMEM_ALL = 12,
	DAX_KMEM_PREFERRED = 13,
	DAX_KMEM_INTERLEAVE = 14,
	HIGHEST_CAPACITY = 15,
	HIGHEST_CAPACITY_PREFERRED = 16,
	HIGHEST_CAPACITY_LOCAL = 17,
	HIGHEST_CAPACITY_LOCAL_PREFERRED = 18,
	LOWEST_LATENCY_LOCAL = 19,
	LOWEST_LATENCY_LOCAL_PREFERRED = 20,
	HIGHEST_BANDWIDTH_LOCAL = 21,
	HIGHEST_BANDWIDTH_LOCAL_PREFERRED = 22,
};

namespace static_kind {

template <typename T>
class allocator {
	memkind_t kind_;

	template <typename U> friend class allocator;

	static memkind_t to_kind(kinds k)
	{
		switch (k) {
		case kinds::DEFAULT: return MEMKIND_DEFAULT;
		case kinds::HUGETLB: return MEMKIND_HUGETLB;
		case kinds::INTERLEAVE: return MEMKIND_INTERLEAVE;
		case kinds::HBW: return MEMKIND_HBW;
		case kinds::HBW_ALL: return MEMKIND_HBW_ALL;
		case kinds::HBW_HUGETLB: return MEMKIND_HBW_HUGETLB;
		case kinds::HBW_ALL_HUGETLB: return MEMKIND_HBW_ALL_HUGETLB;
		case kinds::HBW_PREFERRED: return MEMKIND_HBW_PREFERRED;
		case kinds::HBW_PREFERRED_HUGETLB:
			return MEMKIND_HBW_PREFERRED_HUGETLB;
		case kinds::HBW_INTERLEAVE: return MEMKIND_HBW_INTERLEAVE;
		case kinds::REGULAR: return MEMKIND_REGULAR;
		case kinds::DAX_KMEM: return MEMKIND_DAX_KMEM;
		case kinds::DAX_KMEM_ALL: return MEMKIND_DAX_KMEM_ALL;
		case kinds::DAX_KMEM_PREFERRED: return MEMKIND_DAX_KMEM_PREFERRED;
		case kinds::DAX_KMEM_INTERLEAVE:
			return MEMKIND_DAX_KMEM_INTERLEAVE;
		case kinds::HIGHEST_CAPACITY: return MEMKIND_HIGHEST_CAPACITY;
		case kinds::HIGHEST_CAPACITY_PREFERRED:
			return MEMKIND_HIGHEST_CAPACITY_PREFERRED;
		case kinds::HIGHEST_CAPACITY_LOCAL:
			return MEMKIND_HIGHEST_CAPACITY_LOCAL;
		case kinds::HIGHEST_CAPACITY_LOCAL_PREFERRED:
			return MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED;
		case kinds::LOWEST_LATENCY_LOCAL:
			return MEMKIND_LOWEST_LATENCY_LOCAL;
		case kinds::LOWEST_LATENCY_LOCAL_PREFERRED:
			return MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED;
		case kinds::HIGHEST_BANDWIDTH_LOCAL:
			return MEMKIND_HIGHEST_BANDWIDTH_LOCAL;
		case kinds::HIGHEST_BANDWIDTH_LOCAL_PREFERRED:
			return MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED;
		}
		throw std::invalid_argument(
		    "libmemkind::static_kind::allocator: unknown kind");
	}

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

	explicit allocator(kinds k) : kind_(to_kind(k)) {}
	allocator(const allocator &) = default;
	allocator &operator=(const allocator &) = default;
	template <typename U>
	allocator(const allocator<U> &o) noexcept : kind_(o.kind_) {}
	template <typename U>
	allocator &operator=(const allocator<U> &o) noexcept
	{
		kind_ = o.kind_;
		return *this;
	}

	pointer allocate(size_type n) const
	{
		if (n > max_size())
			throw std::length_error(
			    "libmemkind::static_kind::allocator: size overflow");
		void *p = memkind_malloc(kind_, n * sizeof(T));
		if (p == nullptr)
			throw std::bad_alloc();
		return static_cast<pointer>(p);
	}
	void deallocate(pointer p, size_type) const noexcept
	{
		memkind_free(kind_, p);
	}
	// Constructs a U at p with args, and destroys it: what
	// std::allocator had before C++20, kept because code written for
	// memkind calls them directly (C++17 allocator_traits would fall back
	// to placement new without them).
	template <class U, class... Args>
	void construct(U *p, Args &&...args) const
	{
		::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
	}
	template <class U>
	void destroy(U *p) const
	{
		p->~U();
	}
	size_type max_size() const noexcept
	{
		return std::numeric_limits<size_type>::max() / sizeof(T);
	}
	memkind_t kind() const noexcept { return kind_; }

	template <typename U>
	bool operator==(const allocator<U> &o) const noexcept
	{
		return kind_ == o.kind_;
	}
	template <typename U>
	bool operator!=(const allocator<U> &o) const noexcept
	{
		return !(*this == o);
	}
};

} // namespace static_kind
} // namespace libmemkind

#endif // PMEMTIER_MEMKIND_ALLOCATOR_H
