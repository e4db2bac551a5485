# lease_bench: grants/s and round trips of pmemtierd (not run by ctest).
add_executable(lease_bench ${CMAKE_CURRENT_LIST_DIR}/lease_bench.c)
target_link_libraries(lease_bench PRIVATE pmt_testd pmt_tclient)
