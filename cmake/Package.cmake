# The Debian package of jit (docs/PACKAGE.md): `cpack` in a build folder makes
# jit_<version>_<arch>.deb of the `jit` binary built there, with the systemd unit, the example
# config and the maintainer scripts of deploy/debian.
#
# Why CPack rather than a dpkg-deb script: the version is the project's (project(jit VERSION)
# in CMakeLists.txt) with no second copy to keep in step, the binary is the build's own target,
# and dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS) derives the library dependencies from what
# the binary really links, so they stay right when a dependency changes.
#
# `cpack` installs what the install rules below name and nothing else; it does not build first
# (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): build `jit` before, as docs/PACKAGE.md says. Releases are
# packaged from the release preset; tests/package_test.py packages the build it runs in.

set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(jit_deb ${PROJECT_SOURCE_DIR}/deploy/debian)
set(jit_rw_r PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(TARGETS jit RUNTIME DESTINATION /usr/bin)
install(FILES ${jit_deb}/jit.service DESTINATION /lib/systemd/system ${jit_rw_r})
# Not world-readable: the config names who may do what; postinst makes them root:jit.
install(FILES ${jit_deb}/config.yaml DESTINATION /etc/jit
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${jit_deb}/default DESTINATION /etc/default RENAME jit
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/docs/PACKAGE.md DESTINATION /usr/share/doc/jit ${jit_rw_r})

set(CPACK_GENERATOR DEB)
# Absolute destinations (/etc, /lib/systemd) are installed under DESTDIR, the package's root.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_NAME jit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "jit")
set(CPACK_PACKAGE_CONTACT "jit maintainers <jit@example.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Just-in-time access broker for AWS IAM Identity Center")
set(CPACK_PACKAGE_DESCRIPTION
    "jit grants AWS IAM Identity Center permission sets for a limited time, after approval, and revokes them on time. The package installs the broker, a hardened systemd unit (jit.service) and an example configuration in /etc/jit.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# Library dependencies from the binary (dpkg-shlibdeps, Debian's dpkg-dev), plus what the
# maintainer scripts run.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, tzdata")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${jit_deb}/conffiles ${jit_deb}/postinst ${jit_deb}/prerm ${jit_deb}/postrm)
# Maintainer scripts 0755, conffiles 0644, whatever their modes in the checkout.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Stripped: the symbols stay in the build folder's binary (keep it, or its build-id, for a crash).
set(CPACK_STRIP_FILES ON)

include(CPack)
