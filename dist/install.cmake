# Run by `cmake --install` (install(CODE) in CMakeLists.txt): the files that name the install
# prefix are written now, from the prefix of this install, so that `make install PREFIX=P`
# (cmake --install --prefix P) is right whatever prefix the build was configured with.
# Given: JOT_SRC, JOT_BUILD, JOT_LIBDIR, JOT_INCLUDEDIR, JOT_BINDIR, JOT_VERSION, JOT_PC_REQUIRES.
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(dest "$ENV{DESTDIR}${prefix}")

# jot.pc (pkg-config)
set(CMAKE_INSTALL_PREFIX "${prefix}")
set(CMAKE_INSTALL_LIBDIR "${JOT_LIBDIR}")
set(CMAKE_INSTALL_INCLUDEDIR "${JOT_INCLUDEDIR}")
set(PROJECT_VERSION "${JOT_VERSION}")
configure_file("${JOT_SRC}/jot.pc.in" "${JOT_BUILD}/install/jot.pc" @ONLY)
file(INSTALL "${JOT_BUILD}/install/jot.pc" DESTINATION "${dest}/${JOT_LIBDIR}/pkgconfig")

# the systemd unit, ExecStart in this prefix
if(NOT IS_ABSOLUTE "${JOT_BINDIR}")
  set(JOTD_BIN "${prefix}/${JOT_BINDIR}/jotd")
else()
  set(JOTD_BIN "${JOT_BINDIR}/jotd")
endif()
configure_file("${JOT_SRC}/dist/jotd.service.in" "${JOT_BUILD}/install/jotd.service" @ONLY)
file(INSTALL "${JOT_BUILD}/install/jotd.service" DESTINATION "${dest}/lib/systemd/system")
