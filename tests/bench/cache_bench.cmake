# cache_bench: does a pmem kind's memory follow use (see cache_bench.c)?
# One source, built against libpmemtier and, when installed, Debian's
# libmemkind 1.14; cache_bench.sh runs them. Never run by ctest.
set(_cb ${CMAKE_CURRENT_LIST_DIR}/cache_bench.c)

add_executable(cache_bench_pmemtier ${_cb})
target_compile_definitions(cache_bench_pmemtier PRIVATE BENCH_PMEMTIER)
target_link_libraries(cache_bench_pmemtier PRIVATE pmemtier pmt_tclient m)

find_library(PMT_LIBMEMKIND memkind)
find_path(PMT_MEMKIND_INCLUDE memkind.h PATHS /usr/include NO_DEFAULT_PATH)
if(PMT_LIBMEMKIND AND PMT_MEMKIND_INCLUDE)
  add_executable(cache_bench_memkind ${_cb})
  target_compile_definitions(cache_bench_memkind PRIVATE BENCH_MEMKIND)
  target_include_directories(cache_bench_memkind PRIVATE
    ${PMT_MEMKIND_INCLUDE})
  target_link_libraries(cache_bench_memkind PRIVATE ${PMT_LIBMEMKIND} m)
endif()
