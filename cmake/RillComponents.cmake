# Optional components of rill: libraries beside rill::rill (the Kafka and ZeroMQ connectors will be
# the first). Each is built only when the libraries it needs are found, is its own target
# rill::<name> that only the programs asking for it link, and is found by a consumer with
#   find_package(rill CONFIG REQUIRED COMPONENTS kafka)    # fails when rill has no kafka
#   find_package(rill CONFIG OPTIONAL_COMPONENTS kafka)    # then if(rill_kafka_FOUND) ...
#
# rill_add_component(NAME <name>
#                    SOURCES <file>...
#                    [DEPENDS "<Package> [<version>] [CONFIG] [COMPONENTS ...]"...]
#                    [LINK <item>...]
#                    [FIND_MODULES <dir>/Find<Package>.cmake...])
#
#   NAME          lower case letters and digits: the library rill_<name>, alias and exported
#                 name rill::<name>. Its public headers are include/rill/<name>/ and the
#                 umbrella include/rill/<name>.hpp, its sources src/<name>/.
#   SOURCES       its sources, listed explicitly.
#   DEPENDS       the packages it needs, one quoted find_package() argument list each. The build
#                 looks for them here; the installed rillConfig.cmake looks for them again, for the
#                 consumers that ask for the component.
#   LINK          what rill_<name> links besides rill::rill: PUBLIC unless after PRIVATE.
#   FIND_MODULES  Find<Package>.cmake modules for DEPENDS that ship no CMake package (Debian's
#                 librdkafka has pkg-config files only); used here, installed beside the config.
#
# The cache variable RILL_WITH_<NAME> (AUTO, ON or OFF; AUTO by default) decides: AUTO builds the
# component when all of DEPENDS are found, ON fails the configure when one is missing, OFF leaves
# the component out. Components are declared in the top-level CMakeLists.txt, before
# rill_finalize_components().
#
# Installed beside rillConfig.cmake: rill<Name>Targets.cmake for each component built (its own
# export set, so rillTargets.cmake never needs a component's libraries), the component's headers
# and find modules, and rillComponents.cmake, which lists the components rill declares and those
# built. rillConfig.cmake loads a component's targets only when asked for it.
include_guard(GLOBAL)

set(RILL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/rill)

# rill<Name>Targets: the component's export set and targets file (kafka -> rillKafkaTargets).
function(_rill_component_export_name name out)
  string(SUBSTRING "${name}" 0 1 first)
  string(SUBSTRING "${name}" 1 -1 rest)
  string(TOUPPER "${first}" first)
  set(${out} rill${first}${rest}Targets PARENT_SCOPE)
endfunction()

function(rill_add_component)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "NAME" "SOURCES;DEPENDS;LINK;FIND_MODULES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "rill_add_component: unexpected arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_NAME MATCHES "^[a-z][a-z0-9]*$")
    message(FATAL_ERROR
      "rill_add_component: NAME '${ARG_NAME}' must be lower case letters and digits")
  endif()
  set(name ${ARG_NAME})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "rill_add_component(${name}): SOURCES is required")
  endif()
  get_property(finalized GLOBAL PROPERTY RILL_COMPONENTS_FINALIZED)
  if(finalized)
    message(FATAL_ERROR
      "rill_add_component(${name}) comes after rill_finalize_components(); declare it before")
  endif()
  get_property(declared GLOBAL PROPERTY RILL_DECLARED_COMPONENTS)
  if(name IN_LIST declared)
    message(FATAL_ERROR "rill_add_component: component '${name}' is declared twice")
  endif()
  set_property(GLOBAL APPEND PROPERTY RILL_DECLARED_COMPONENTS ${name})

  string(TOUPPER ${name} upper)
  set(RILL_WITH_${upper} AUTO CACHE STRING
    "Build rill's ${name} component: AUTO (when its libraries are found), ON or OFF")
  set_property(CACHE RILL_WITH_${upper} PROPERTY STRINGS AUTO ON OFF)
  string(TOUPPER "${RILL_WITH_${upper}}" with)
  if(with MATCHES "^(OFF|NO|FALSE|N|0)$")
    message(STATUS "rill: component ${name} not built (RILL_WITH_${upper}=OFF)")
    return()
  elseif(with MATCHES "^(ON|YES|TRUE|Y|1)$")
    set(required REQUIRED)
  elseif(with STREQUAL "AUTO")
    set(required QUIET)
  else()
    message(FATAL_ERROR "RILL_WITH_${upper} must be AUTO, ON or OFF, not '${RILL_WITH_${upper}}'")
  endif()

  # Relative to the calling directory, not to where cmake runs (a re-run from the build starts
  # in the build tree).
  set(find_modules "")
  foreach(module IN LISTS ARG_FIND_MODULES)
    get_filename_component(module "${module}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${module}")
      message(FATAL_ERROR "rill_add_component(${name}): FIND_MODULES file ${module} not found")
    endif()
    get_filename_component(module_dir "${module}" DIRECTORY)
    list(PREPEND CMAKE_MODULE_PATH "${module_dir}")
    list(APPEND find_modules "${module}")
  endforeach()
  set(missing "")
  foreach(dependency IN LISTS ARG_DEPENDS)
    separate_arguments(find_args UNIX_COMMAND "${dependency}")
    list(GET find_args 0 package)
    find_package(${find_args} ${required})
    if(NOT ${package}_FOUND)
      list(APPEND missing ${package})
    endif()
  endforeach()
  if(missing)
    list(JOIN missing ", " missing)
    message(STATUS "rill: component ${name} not built: ${missing} not found "
                   "(RILL_WITH_${upper}=AUTO)")
    return()
  endif()

  add_library(rill_${name} ${ARG_SOURCES})
  add_library(rill::${name} ALIAS rill_${name})
  target_include_directories(rill_${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(rill_${name} PUBLIC cxx_std_20)
  target_link_libraries(rill_${name} PUBLIC rill::rill ${ARG_LINK})
  target_compile_options(rill_${name} PRIVATE
    -Wall -Wextra -Wpedantic $<$<BOOL:${RILL_WERROR}>:-Werror>)
  set_target_properties(rill_${name} PROPERTIES
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}
    POSITION_INDEPENDENT_CODE ON
    EXPORT_NAME ${name})

  if(RILL_INSTALL)
    _rill_component_export_name(${name} export_set)
    install(TARGETS rill_${name} EXPORT ${export_set}
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
      RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(EXPORT ${export_set} NAMESPACE rill:: DESTINATION ${RILL_INSTALL_CMAKEDIR})
    if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/include/rill/${name})
      install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/rill/${name}
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill)
    endif()
    if(EXISTS ${PROJECT_SOURCE_DIR}/include/rill/${name}.hpp)
      install(FILES ${PROJECT_SOURCE_DIR}/include/rill/${name}.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill)
    endif()
    if(find_modules)
      install(FILES ${find_modules} DESTINATION ${RILL_INSTALL_CMAKEDIR}/modules)
    endif()
  endif()
  set_property(GLOBAL APPEND PROPERTY RILL_BUILT_COMPONENTS ${name})
  set_property(GLOBAL PROPERTY RILL_COMPONENT_${name}_DEPENDS "${ARG_DEPENDS}")
  message(STATUS "rill: component ${name} built (rill::${name})")
endfunction()

# rill_finalize_components(): after the last rill_add_component(). Writes rillComponents.cmake
# into the build tree (the top-level CMakeLists.txt installs it), and sets
# RILL_COMPONENT_HEADER_EXCLUDES to the install(DIRECTORY) arguments that leave the components'
# header folders out of rill's own headers (a built component installs its own).
# Reads the global properties RILL_DECLARED_COMPONENTS and RILL_BUILT_COMPONENTS, which the tests
# read too.
function(rill_finalize_components)
  set_property(GLOBAL PROPERTY RILL_COMPONENTS_FINALIZED TRUE)
  get_property(declared GLOBAL PROPERTY RILL_DECLARED_COMPONENTS)
  get_property(built GLOBAL PROPERTY RILL_BUILT_COMPONENTS)

  set(content "# Generated by rill's build (cmake/RillComponents.cmake), read by rillConfig.cmake.")
  string(APPEND content
    "\n# The optional components rill declares, and those built and installed here.\n")
  string(APPEND content "set(rill_KNOWN_COMPONENTS \"${declared}\")\n")
  string(APPEND content "set(rill_AVAILABLE_COMPONENTS \"${built}\")\n")
  foreach(name IN LISTS built)
    _rill_component_export_name(${name} export_set)
    get_property(dependencies GLOBAL PROPERTY RILL_COMPONENT_${name}_DEPENDS)
    string(APPEND content "# ${name}: ${export_set}.cmake, and the packages it needs.\n")
    string(APPEND content "set(_rill_${name}_DEPENDS")
    foreach(dependency IN LISTS dependencies)
      string(APPEND content " [==[${dependency}]==]")
    endforeach()
    string(APPEND content ")\n")
  endforeach()
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/rillComponents.cmake CONTENT "${content}" @ONLY)

  set(excludes "")
  foreach(name IN LISTS declared)
    list(APPEND excludes REGEX "/include/rill/${name}(\\.hpp)?$" EXCLUDE)
  endforeach()
  set(RILL_COMPONENT_HEADER_EXCLUDES "${excludes}" PARENT_SCOPE)

  list(JOIN built ", " built_text)
  if(NOT built_text)
    set(built_text "none")
  endif()
  message(STATUS "rill: optional components built: ${built_text}")
endfunction()
