# The streaming quality window (quality_window.h). Included from
# exporter/model/CMakeLists.txt: include(quality_window.cmake)
# Paths are relative to this file, so it works from any including directory.
aiq_cc_library(NAME aiq_quality_window
  SRCS ${CMAKE_CURRENT_LIST_DIR}/quality_window.cc
  HDRS ${CMAKE_CURRENT_LIST_DIR}/quality_window.h
  DEPS aiq_config aiq_stats absl::status absl::statusor absl::strings
       absl::time)
# Lets code that is globbed into every build (bench/) compile only once the
# library is linked in.
target_compile_definitions(aiq_quality_window INTERFACE
  AIQ_HAVE_QUALITY_WINDOW=1)
aiq_cc_test(NAME quality_window_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/quality_window_test.cc
  DEPS aiq_quality_window aiq_data nlohmann_json::nlohmann_json)
