# SPDX-License-Identifier: BSD-3-Clause
# library.cmake - libnetstack as a product: the shared library, the static
# archive, and what `cmake --install` puts where (included by CMakeLists.txt
# once the internal `netstack` and `lwip` archives exist).
#
# The internal archives keep every symbol, for the tests, the fuzz harnesses
# (which --wrap lwIP's functions) and the project's own tools. What is
# installed exports the public API only:
#   build/lib/libnetstack.so.X.Y.Z  soname libnetstack.so.N, symbols through
#                                   netstack/libnetstack.map (netstack_* only)
#   build/lib/libnetstack.a         one relocatable object made of the
#                                   library and lwIP, hidden symbols made local
#                                   (ld -r, objcopy --localize-hidden), so a
#                                   static embedder's own tcp_input or sys_now
#                                   cannot collide with ours either
include(GNUInstallDirs)
set(NETSTACK_SOVERSION ${PROJECT_VERSION_MAJOR})
set(NETSTACK_LIB_DIR "${CMAKE_BINARY_DIR}/lib")

# Made of the internal archive, whole; CMake wants a source of its own.
file(WRITE "${CMAKE_BINARY_DIR}/netstack_shared.c"
  "/* libnetstack.so is the netstack archive linked whole (cmake/library.cmake) */\n")
add_library(netstack_shared SHARED "${CMAKE_BINARY_DIR}/netstack_shared.c")
set_target_properties(netstack_shared PROPERTIES
  OUTPUT_NAME netstack VERSION ${PROJECT_VERSION} SOVERSION ${NETSTACK_SOVERSION}
  C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY "${NETSTACK_LIB_DIR}"
  LINK_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/netstack/libnetstack.map")
target_include_directories(netstack_shared PUBLIC
  "$<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/netstack/include>"
  "$<BUILD_INTERFACE:${NETSTACK_GENERATED_INCLUDE}>")
target_link_libraries(netstack_shared PRIVATE
  "$<LINK_LIBRARY:WHOLE_ARCHIVE,netstack>" lwip PkgConfig::LDNS PkgConfig::PCAP Threads::Threads)
target_link_options(netstack_shared PRIVATE
  "LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/netstack/libnetstack.map")
if(NOT NETSTACK_FUZZ AND NOT NETSTACK_SANITIZE)
  # Every symbol resolved at link time; sanitizer runtimes are the
  # executable's, so instrumented builds leave theirs to it.
  target_link_options(netstack_shared PRIVATE "LINKER:--no-undefined")
endif()

find_program(NETSTACK_OBJCOPY NAMES objcopy REQUIRED)
set(NETSTACK_PRODUCT_A "${NETSTACK_LIB_DIR}/libnetstack.a")
add_custom_command(OUTPUT "${NETSTACK_PRODUCT_A}"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${NETSTACK_LIB_DIR}"
  COMMAND ${CMAKE_LINKER} -r -o "${CMAKE_BINARY_DIR}/netstack-prelinked.o"
          --whole-archive $<TARGET_FILE:netstack> $<TARGET_FILE:lwip>
  COMMAND ${NETSTACK_OBJCOPY} --localize-hidden "${CMAKE_BINARY_DIR}/netstack-prelinked.o"
  COMMAND ${CMAKE_COMMAND} -E rm -f "${NETSTACK_PRODUCT_A}"
  COMMAND ${CMAKE_AR} rcs "${NETSTACK_PRODUCT_A}" "${CMAKE_BINARY_DIR}/netstack-prelinked.o"
  DEPENDS netstack lwip
  COMMENT "Prelinking libnetstack.a (public symbols only)" VERBATIM)
add_custom_target(netstack_static ALL DEPENDS "${NETSTACK_PRODUCT_A}")

# pkg-config and find_package() files; the config file finds the prefix from
# its own location, so a relocated install still works.
file(RELATIVE_PATH NETSTACK_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/netstack.pc.in "${CMAKE_BINARY_DIR}/netstack.pc" @ONLY)
set(NETSTACK_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/netstack")
file(RELATIVE_PATH NETSTACK_CONFIG_TO_PREFIX "/prefix/${NETSTACK_CMAKE_DIR}" "/prefix")
configure_file(cmake/netstackConfig.cmake.in "${CMAKE_BINARY_DIR}/netstackConfig.cmake" @ONLY)
include(CMakePackageConfigHelpers)
write_basic_package_version_file("${CMAKE_BINARY_DIR}/netstackConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)

install(TARGETS netstack_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES "${NETSTACK_PRODUCT_A}" DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES netstack/include/netstack.h "${NETSTACK_GENERATED_INCLUDE}/netstack_version.h"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${CMAKE_BINARY_DIR}/netstack.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES "${CMAKE_BINARY_DIR}/netstackConfig.cmake"
  "${CMAKE_BINARY_DIR}/netstackConfigVersion.cmake" DESTINATION ${NETSTACK_CMAKE_DIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
