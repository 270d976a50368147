# libra_add_component(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates libra_<name> with alias libra::<name>, C++20, our warnings (and -Werror with
# LIBRA_WERROR) on our own targets only.
function(libra_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wconversion -Wdouble-promotion)
  if(LIBRA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

function(libra_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(libra_${name} SHARED ${ARG_SOURCES})
  add_library(libra::${name} ALIAS libra_${name})
  set_target_properties(libra_${name} PROPERTIES
    OUTPUT_NAME libra_${name}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    EXPORT_NAME ${name}
    POSITION_INDEPENDENT_CODE ON)
  list(LENGTH ARG_SOURCES _count)
  if(LIBRA_UNITY AND _count GREATER 1)
    set_target_properties(libra_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 6)
  endif()
  target_link_libraries(libra_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  libra_set_warnings(libra_${name})
endfunction()
