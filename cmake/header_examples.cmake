# Compiles the usage example in every exporter/ header's opening comment
# (tools/header_examples.py; convention in docs/development.md). Part of the
# default build, so an example that no longer matches its header breaks it.

find_package(Python3 REQUIRED COMPONENTS Interpreter)

file(GLOB_RECURSE AIQ_EXAMPLE_HEADERS CONFIGURE_DEPENDS
     RELATIVE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/exporter/*.h)
# Test-only headers need GoogleTest and the tests' definitions.
set(AIQ_TEST_ONLY_HEADERS exporter/http/test_client.h
    exporter/stats/oracle_test_util.h exporter/testing/codec_test_util.h
    exporter/testing/oracle_data.h)

set(AIQ_EXAMPLE_TOOL ${PROJECT_SOURCE_DIR}/tools/header_examples.py)
set(AIQ_EXAMPLE_SOURCES)
foreach(header IN LISTS AIQ_EXAMPLE_HEADERS)
  if(header IN_LIST AIQ_TEST_ONLY_HEADERS AND NOT AIQ_BUILD_TESTS)
    continue()
  endif()
  string(REGEX REPLACE "\\.h$" "_example.cc" out ${header})
  set(out ${PROJECT_BINARY_DIR}/header_examples/${out})
  add_custom_command(
    OUTPUT ${out}
    COMMAND Python3::Interpreter ${AIQ_EXAMPLE_TOOL}
            --source-dir ${PROJECT_SOURCE_DIR} --header ${header}
            --output ${out}
    DEPENDS ${PROJECT_SOURCE_DIR}/${header} ${AIQ_EXAMPLE_TOOL}
    COMMENT "Extracting the usage example of ${header}"
    VERBATIM)
  list(APPEND AIQ_EXAMPLE_SOURCES ${out})
endforeach()

# Compiled, not linked: the examples are function bodies nobody calls.
add_library(aiq_header_examples OBJECT ${AIQ_EXAMPLE_SOURCES})
target_link_libraries(aiq_header_examples PRIVATE aiq_all aiq_cli)
# Examples name results they do not go on to use.
target_compile_options(aiq_header_examples PRIVATE ${AIQ_WARNINGS}
    -Wno-unused-variable -Wno-unused-but-set-variable)
if(AIQ_BUILD_TESTS)
  target_link_libraries(aiq_header_examples PRIVATE aiq_http_test_client
      nlohmann_json::nlohmann_json GTest::gmock GTest::gtest)
  aiq_test_definitions(aiq_header_examples)
endif()
