# SPDX-License-Identifier: BSD-3-Clause
# slirp.cmake - libslirp.so.0 on netstack (slirp/): libslirp's API, soname
# and symbol versions, for QEMU's -netdev user and slirp4netns through
# LD_LIBRARY_PATH. Only the header of Debian's libslirp-dev is used (its
# types are what the callers were compiled with); the system's library is
# never linked. The result lives in build/lib/slirp/ and is installed under
# the project's own folder of libdir, never over the system's libslirp.
# (find_path, not pkg-config: slirp.pc would pull in glib's, which we do not use)
find_path(NETSTACK_SLIRP_INCLUDE libslirp.h PATH_SUFFIXES slirp)
if(NOT NETSTACK_SLIRP_INCLUDE)
  message(STATUS "no <libslirp.h> (package libslirp-dev): libslirp.so.0 is not built")
  return()
endif()
file(GLOB NETSTACK_SLIRP_SRCS CONFIGURE_DEPENDS slirp/*.c)
add_library(netstack_slirp SHARED ${NETSTACK_SLIRP_SRCS})
set_target_properties(netstack_slirp PROPERTIES
  OUTPUT_NAME slirp VERSION 0.4.7 SOVERSION 0
  LIBRARY_OUTPUT_DIRECTORY "${NETSTACK_LIB_DIR}/slirp"
  LINK_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/slirp/libslirp.map")
target_include_directories(netstack_slirp PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}"
  "${NETSTACK_SLIRP_INCLUDE}")
target_compile_options(netstack_slirp PRIVATE ${NETSTACK_WARNINGS})
target_link_libraries(netstack_slirp PRIVATE netstack)
target_link_options(netstack_slirp PRIVATE
  "LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/slirp/libslirp.map")
if(NOT NETSTACK_FUZZ AND NOT NETSTACK_SANITIZE)
  target_link_options(netstack_slirp PRIVATE "LINKER:--no-undefined")
endif()
install(TARGETS netstack_slirp LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/netstack/slirp
  NAMELINK_SKIP)
