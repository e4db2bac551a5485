# NVDIMM/dax and CXL discovery and KMEM onlining (libndctl, libdaxctl,
# libcxl), a static
# library linked into pmemtierd and into tests/vm/discovery_probe.
# Included by daemon/CMakeLists.txt (include(... OPTIONAL)).
if(NOT TARGET pmemtierd_discovery)
  add_library(pmemtierd_discovery STATIC
    ${CMAKE_CURRENT_LIST_DIR}/discovery.c
    ${CMAKE_CURRENT_LIST_DIR}/discovery_kmem.c
    ${CMAKE_CURRENT_LIST_DIR}/discovery_mount.c
    ${CMAKE_CURRENT_LIST_DIR}/discovery_cxl.c
    ${CMAKE_CURRENT_LIST_DIR}/discovery_cxl_decide.c
    ${CMAKE_CURRENT_LIST_DIR}/discovery_cxl_create.c)
  target_include_directories(pmemtierd_discovery PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(pmemtierd_discovery PUBLIC PkgConfig::NDCTL PkgConfig::DAXCTL
    PkgConfig::CXL)
endif()
