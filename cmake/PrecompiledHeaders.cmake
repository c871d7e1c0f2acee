# Precompiled headers (JIT_PCH). Most of the project's translation units spend more time
# parsing nlohmann::json, spdlog and GoogleTest than compiling their own code, so two headers are
# compiled once per build: one for the libraries and the binary, one (adding gtest and gmock) for
# the test binaries. Boost.Beast and Asio are left out: only src/net/ includes them
# (docs/BUILD.md). Every target of ours reuses one of them.
#
# The header lists name only third-party and standard headers: our own code never depends on
# what a precompiled header happens to include, and the debug preset (JIT_PCH=OFF, the first
# build CI makes) keeps checking that every file includes what it uses.

set(JIT_PCH_HEADERS
  <algorithm> <atomic> <chrono> <cstdint> <functional> <map> <memory> <mutex> <optional>
  <set> <string> <string_view> <thread> <utility> <vector>
  <nlohmann/json.hpp> <spdlog/spdlog.h>)

add_library(jit_pch_lib STATIC ${PROJECT_SOURCE_DIR}/cmake/pch.cc)
target_link_libraries(jit_pch_lib PRIVATE jit_core nlohmann_json::nlohmann_json
                                          ${JIT_BOOST_HEADERS})
target_precompile_headers(jit_pch_lib PRIVATE ${JIT_PCH_HEADERS})

if(JIT_BUILD_TESTS)
  add_library(jit_pch_test STATIC ${PROJECT_SOURCE_DIR}/cmake/pch.cc)
  target_link_libraries(jit_pch_test PRIVATE jit_testing nlohmann_json::nlohmann_json
                                             ${JIT_BOOST_HEADERS})
  target_precompile_headers(jit_pch_test PRIVATE ${JIT_PCH_HEADERS} <gtest/gtest.h>
                                                 <gmock/gmock.h>)
endif()

# jit_use_pch(DIR...) makes every C++ library and executable defined in those directories reuse
# the matching precompiled header: targets that link GoogleTest the test one, the others the
# library one.
function(jit_use_pch)
  foreach(dir IN LISTS ARGN)
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t IN LISTS targets)
      get_target_property(type ${t} TYPE)
      if(NOT type MATCHES "^(STATIC_LIBRARY|EXECUTABLE)$" OR t MATCHES "^jit_pch_")
        continue()
      endif()
      get_target_property(libs ${t} LINK_LIBRARIES)
      if(libs MATCHES "GTest::|jit_testing")
        if(TARGET jit_pch_test)
          target_precompile_headers(${t} REUSE_FROM jit_pch_test)
        endif()
      else()
        target_precompile_headers(${t} REUSE_FROM jit_pch_lib)
      endif()
    endforeach()
  endforeach()
endfunction()
