# alloc_bench: the same source built against four allocators (see
# alloc_bench.c); alloc_bench.sh runs them and prints one table. Built with
# the tests, never run by ctest.
find_package(Threads REQUIRED)
set(_ab ${CMAKE_CURRENT_LIST_DIR}/alloc_bench.c)

add_executable(alloc_bench_glibc ${_ab})
target_compile_definitions(alloc_bench_glibc PRIVATE BENCH_GLIBC)
target_link_libraries(alloc_bench_glibc PRIVATE Threads::Threads)

add_executable(alloc_bench_jemalloc ${_ab})
target_compile_definitions(alloc_bench_jemalloc PRIVATE BENCH_JEMALLOC)
target_link_libraries(alloc_bench_jemalloc PRIVATE PkgConfig::JEMALLOC
  Threads::Threads)
# Only the link makes jemalloc the malloc here: keep it even if unused.
target_link_options(alloc_bench_jemalloc PRIVATE -Wl,--no-as-needed)

add_executable(alloc_bench_pmemtier ${_ab})
target_compile_definitions(alloc_bench_pmemtier PRIVATE BENCH_PMEMTIER)
target_link_libraries(alloc_bench_pmemtier PRIVATE pmemtier Threads::Threads)

# Debian's libmemkind 1.14 (libmemkind-dev), the anchor: our library exports
# the same names, so this one is a separate binary.
find_library(PMT_LIBMEMKIND memkind)
find_path(PMT_MEMKIND_INCLUDE memkind.h PATHS /usr/include NO_DEFAULT_PATH)
if(PMT_LIBMEMKIND AND PMT_MEMKIND_INCLUDE)
  add_executable(alloc_bench_memkind ${_ab})
  target_compile_definitions(alloc_bench_memkind PRIVATE BENCH_MEMKIND)
  target_include_directories(alloc_bench_memkind PRIVATE ${PMT_MEMKIND_INCLUDE})
  target_link_libraries(alloc_bench_memkind PRIVATE ${PMT_LIBMEMKIND}
    Threads::Threads)
endif()
