// SPDX-License-Identifier: BSD-3-Clause
//
// libmemkind::fixed::allocator<T>: a standard C++ allocator whose memory
// comes from a fixed kind (memkind_create_fixed()) over a range the caller
// mapped, shared by every copy and rebind of the allocator and destroyed
// with the last one. Destroying the kind leaves the range mapped: it stays
// the caller's to unmap. Same shape as memkind's fixed_allocator.h;
// header-only over memkind.h.
#ifndef PMEMTIER_FIXED_ALLOCATOR_H
#define PMEMTIER_FIXED_ALLOCATOR_H

#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "memkind.h"

namespace libmemkind {
namespace fixed {
namespace internal {

// Owns the kind: created in the constructor, destroyed (with every block
// still allocated in it) when the last allocator sharing it goes away.
class kind_wrapper_t {
public:
	kind_wrapper_t(void *addr, std::size_t size)
	{
		int err = memkind_create_fixed(addr, size, &kind_);

		if (err == MEMKIND_ERROR_INVALID)
			throw std::invalid_argument(
			    "libmemkind::fixed: invalid range for a fixed "
			    "kind, error " + std::to_string(err));
		if (err != MEMKIND_SUCCESS)
			throw std::runtime_error(
			    "libmemkind::fixed: cannot create a fixed kind, "
			    "error " + std::to_string(err));
	}
	kind_wrapper_t(const kind_wrapper_t &) = delete;
	kind_wrapper_t &operator=(const kind_wrapper_t &) = delete;
	~kind_wrapper_t() { memkind_destroy_kind(kind_); }
	memkind_t get() const noexcept { return kind_; }

private:
	memkind_t kind_ = nullptr;
};

} // namespace internal

template <typename T>
class allocator {
	std::shared_ptr<internal::kind_wrapper_t> kind_;

	template <typename U> friend class allocator;

public:
	using value_type = T;
	using pointer = T *;
	using const_pointer = const T *;
	using reference = T &;
	using const_reference = const T &;
	using size_type = std::size_t;
	using difference_type = std::ptrdiff_t;
	using propagate_on_container_copy_assignment = std::true_type;
	using propagate_on_container_move_assignment = std::true_type;
	using propagate_on_container_swap = std::true_type;

	template <class U> struct rebind {
		using other = allocator<U>;
	};

	explicit allocator(void *addr, std::size_t size)
	    : kind_(std::make_shared<internal::kind_wrapper_t>(addr, size))
	{}
	allocator(const allocator &) = default;
	allocator(allocator &&) = default;
	allocator &operator=(const allocator &) = default;
	allocator &operator=(allocator &&) = default;
	template <typename U>
	allocator(const allocator<U> &o) noexcept : kind_(o.kind_) {}
	template <typename U>
	allocator(allocator<U> &&o) noexcept : kind_(std::move(o.kind_)) {}
	template <typename U>
	allocator &operator=(const allocator<U> &o) noexcept
	{
		kind_ = o.kind_;
		return *this;
	}
	template <typename U>
	allocator &operator=(allocator<U> &&o) noexcept
	{
		kind_ = std::move(o.kind_);
		return *this;
	}

	pointer allocate(size_type n) const
	{
		if (n > max_size())
			throw std::length_error(
			    "libmemkind::fixed::allocator: size overflow");
		void *p = memkind_malloc(kind_->get(), n * sizeof(T));
		if (p == nullptr)
			throw std::bad_alloc();
		return static_cast<pointer>(p);
	}
	void deallocate(pointer p, size_type) const noexcept
	{
		memkind_free(kind_->get(), p);
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
	memkind_t kind() const noexcept { return kind_->get(); }

	template <typename U>
	bool operator==(const allocator<U> &o) const noexcept
	{
		return kind_->get() == o.kind_->get();
	}
	template <typename U>
	bool operator!=(const allocator<U> &o) const noexcept
	{
		return !(*this == o);
	}
};

} // namespace fixed
} // namespace libmemkind

#endif // PMEMTIER_FIXED_ALLOCATOR_H
