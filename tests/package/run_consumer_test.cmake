# Builds and runs tests/package/consumer against rill, as an application project would.
#
#   cmake -DMODE=find_package|add_subdirectory -DRILL_SOURCE_DIR=<rill source>
#         -DRILL_BINARY_DIR=<rill build> -DWORK_DIR=<scratch dir> [-DGENERATOR=<generator>]
#         [-DCXX_COMPILER=<compiler>] [-DBUILD_TYPE=<type>] [-DEXPECTED_VERSION=<x.y.z>]
#         [-DSANITIZE=<RILL_SANITIZE>] [-DWERROR=ON] [-DCOMPONENTS=<a,b,...>] [-DTOOLS=<a,b,...>]
#         -P run_consumer_test.cmake
#
# find_package: installs the rill built in RILL_BINARY_DIR into WORK_DIR/prefix (`cmake --install`;
# the target `rill` and those of the optional components built there, COMPONENTS, are brought up
# to date first, normally a no-op), then configures the consumer with
# CMAKE_PREFIX_PATH=WORK_DIR/prefix.
# The consumer checks that the installed rill holds exactly COMPONENTS, each found on request, and
# that an OPTIONAL_COMPONENTS request for a component rill lacks leaves rill found. Then a second
# configure of the consumer in WORK_DIR/build-required-missing asks for that missing component as
# REQUIRED: it must fail, with rillConfig.cmake's message naming the component.
# add_subdirectory: the consumer adds RILL_SOURCE_DIR as a subdirectory and builds rill itself.
# Either way the consumer is built in WORK_DIR/build and run; it must exit with 0.
#
# A sanitizer build is skipped: its library needs the sanitizer runtime, which a consumer built
# without the sanitizer flags does not link. The test's SKIP_REGULAR_EXPRESSION matches the
# message printed then.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS MODE RILL_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(MODE STREQUAL "find_package" AND NOT IS_DIRECTORY "${RILL_BINARY_DIR}")
  message(FATAL_ERROR "run_consumer_test.cmake: -DRILL_BINARY_DIR=<rill build> is required")
endif()

if(NOT "${SANITIZE}" STREQUAL "")
  message("rill package test skipped: this build uses RILL_SANITIZE=${SANITIZE}, and the "
          "consumer is not built with sanitizer flags")
  return()
endif()

# Runs a command, echoing it; stops the test with its output when it fails.
function(run_step what)
  string(JOIN " " shown ${ARGN})
  message("-- ${what}: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message("${out}")
    message(FATAL_ERROR "${what} failed (${rc})")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

set(configure_args
  -S "${CMAKE_CURRENT_LIST_DIR}/consumer" -B "${build}"
  -DRILL_CONSUMER_MODE=${MODE}
  -DRILL_EXPECTED_VERSION=${EXPECTED_VERSION})
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
# The add_subdirectory consumer compiles rill again: without optimisation or debug information
# (no build type), which is all that check needs and about half the compile time of
# RelWithDebInfo. The find_package consumer builds against this tree's libraries, in its type.
if(BUILD_TYPE AND NOT MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(WERROR)
  list(APPEND configure_args -DRILL_CONSUMER_WERROR=ON)
endif()

# The machine running the suite may be small: at most two compile jobs unless told otherwise.
set(jobs 2)
if(DEFINED ENV{CMAKE_BUILD_PARALLEL_LEVEL})
  set(jobs $ENV{CMAKE_BUILD_PARALLEL_LEVEL})
endif()

# The optional components built in RILL_BINARY_DIR; "none" tells the consumer to expect none.
string(REPLACE "," ";" components "${COMPONENTS}")
set(expected_components "${COMPONENTS}")
if(expected_components STREQUAL "")
  set(expected_components none)
endif()

if(MODE STREQUAL "find_package")
  # Normally a no-op (ctest runs after the build); it makes sure the installed libraries were built
  # from the headers installed beside them.
  set(targets rill)
  foreach(component IN LISTS components)
    list(APPEND targets rill_${component})
  endforeach()
  # The installed tools (tools/), which the install step needs built too.
  string(REPLACE "," ";" tools "${TOOLS}")
  list(APPEND targets ${tools})
  set(build_args --build "${RILL_BINARY_DIR}" --target ${targets} --parallel ${jobs})
  if(BUILD_TYPE)
    list(APPEND build_args --config ${BUILD_TYPE})
  endif()
  run_step("bring rill up to date" "${CMAKE_COMMAND}" ${build_args})
  set(install_args --install "${RILL_BINARY_DIR}" --prefix "${prefix}")
  if(BUILD_TYPE)
    list(APPEND install_args --config ${BUILD_TYPE})
  endif()
  run_step("install rill" "${CMAKE_COMMAND}" ${install_args})
  foreach(tool IN LISTS tools)
    if(NOT EXISTS "${prefix}/bin/${tool}")
      message(FATAL_ERROR "the tool ${tool} was not installed into ${prefix}/bin")
    endif()
  endforeach()
  list(APPEND configure_args
    -DCMAKE_PREFIX_PATH=${prefix}
    -DRILL_EXPECTED_PREFIX=${prefix}
    -DRILL_EXPECTED_COMPONENTS=${expected_components}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "add_subdirectory")
  # The core only: the optional components are built, installed and found by the find_package
  # consumer; building them again here (Beast's server, the connectors) only cost CI minutes.
  list(APPEND configure_args -DRILL_SOURCE_DIR=${RILL_SOURCE_DIR}
    -DRILL_WITH_KAFKA=OFF -DRILL_WITH_ZMQ=OFF -DRILL_WITH_OPS=OFF)
else()
  message(FATAL_ERROR "run_consumer_test.cmake: MODE must be find_package or add_subdirectory")
endif()

run_step("configure the consumer" "${CMAKE_COMMAND}" ${configure_args})
run_step("build the consumer" "${CMAKE_COMMAND}" --build "${build}" --parallel ${jobs})
message("${step_output}")
run_step("run the consumer" "${build}/app")
message("${step_output}")

if(MODE STREQUAL "find_package")
  # find_package(rill CONFIG REQUIRED COMPONENTS nosuch) must fail, and say why.
  set(missing_args ${configure_args})
  list(FIND missing_args "${build}" at)
  list(REMOVE_AT missing_args ${at})
  list(INSERT missing_args ${at} "${WORK_DIR}/build-required-missing")
  list(APPEND missing_args -DRILL_CONSUMER_REQUIRED_COMPONENTS=nosuch)
  string(JOIN " " shown ${missing_args})
  message("-- configure the consumer, requiring a missing component (must fail): cmake ${shown}")
  execute_process(COMMAND "${CMAKE_COMMAND}" ${missing_args}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  # CMake wraps the message's lines: compare with the white space squeezed.
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}")
  set(expected_message
    "rill's required component(s) not found: \"nosuch\" (rill has no such component)")
  string(FIND "${flat}" "${expected_message}" at)
  if(rc EQUAL 0 OR at EQUAL -1 OR NOT flat MATCHES "set rill_FOUND to FALSE")
    message("${out}")
    message(FATAL_ERROR "find_package(rill CONFIG REQUIRED COMPONENTS nosuch) did not fail as it "
                        "should (exit ${rc}); wanted the message: ${expected_message}")
  endif()
  message("-- it failed as it should: ${expected_message}")
endif()
message("rill package test passed: ${MODE} consumer")
