# Helpers shared by every component: one place for warnings and test wiring.

set(AIQ_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)

# Clang checks the lock annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_
# REQUIRED, ...) at compile time; GCC ignores them. scripts/check.sh builds
# everything with clang and AIQ_WERROR=ON (docs/development.md).
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND AIQ_WARNINGS -Wthread-safety)
endif()
option(AIQ_WERROR "Treat the project's warnings as errors" OFF)
if(AIQ_WERROR)
  list(APPEND AIQ_WARNINGS -Werror)
endif()

# aiq_cc_library(NAME name SRCS a.cc b.cc [HDRS ...] [DEPS ...])
# Libraries are static, include paths rooted at the repository top
# (#include "exporter/stats/ks.h").
function(aiq_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  if(A_SRCS)
    add_library(${A_NAME} STATIC ${A_SRCS} ${A_HDRS})
    target_include_directories(${A_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${A_NAME} PUBLIC ${A_DEPS})
    target_compile_options(${A_NAME} PRIVATE ${AIQ_WARNINGS})
  else()
    add_library(${A_NAME} INTERFACE ${A_HDRS})
    target_include_directories(${A_NAME} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${A_NAME} INTERFACE ${A_DEPS})
  endif()
endfunction()

# The compile definitions every test (and the test-only headers' compiled
# examples, cmake/header_examples.cmake) sees.
function(aiq_test_definitions target)
  target_compile_definitions(${target} PRIVATE
      AIQ_ORACLE_DIR="${AIQ_ORACLE_DIR}"
      AIQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      AIQ_BINARY_DIR="${PROJECT_BINARY_DIR}")
endfunction()

# aiq_sanitizer_runtime(target): what an executable of a sanitizer build
# needs beside the compiler's flags. Under TSan, the shim that shows it
# absl's Mutex (tests/sanitizers/tsan_absl_sync.cc); dlsym needs libdl.
function(aiq_sanitizer_runtime target)
  if(AIQ_SANITIZE MATCHES "thread")
    target_sources(${target} PRIVATE
        ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan_absl_sync.cc)
    target_link_libraries(${target} PRIVATE absl::synchronization
                          ${CMAKE_DL_LIBS})
  endif()
endfunction()

# aiq_cc_test(NAME name SRCS a_test.cc ... DEPS ...)
# One GoogleTest binary per component; every TEST becomes a CTest test.
# Tests get AIQ_ORACLE_DIR and AIQ_SOURCE_DIR as compile definitions.
function(aiq_cc_test)
  if(NOT AIQ_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  aiq_sanitizer_runtime(${A_NAME})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(${A_NAME} PRIVATE ${AIQ_WARNINGS})
  aiq_test_definitions(${A_NAME})
  gtest_discover_tests(${A_NAME} DISCOVERY_MODE PRE_TEST
      PROPERTIES TIMEOUT 600)
endfunction()

# aiq_link_allocator(target): links `target` with tcmalloc when AIQ_TCMALLOC
# is on. Nothing calls into the library (it replaces malloc and free by
# symbol interposition), so it is linked even where the linker drops
# libraries nobody references.
function(aiq_link_allocator target)
  if(AIQ_TCMALLOC)
    # One token, so CMake neither reorders nor deduplicates its parts.
    target_link_libraries(${target} PRIVATE
        "-Wl,--push-state,--no-as-needed,${AIQ_TCMALLOC_LIBRARY},--pop-state")
  endif()
endfunction()
