# Exposition of the streaming quality window (quality_metrics.h). Included
# from exporter/metrics/CMakeLists.txt after exporter/model (which defines
# aiq_quality_window): include(quality_metrics.cmake)
aiq_cc_library(NAME aiq_quality_metrics
  SRCS ${CMAKE_CURRENT_LIST_DIR}/quality_metrics.cc
  HDRS ${CMAKE_CURRENT_LIST_DIR}/quality_metrics.h
  ${CMAKE_CURRENT_LIST_DIR}/family_builder.h
  DEPS aiq_quality_window aiq_config prometheus-cpp::core)
aiq_cc_test(NAME quality_metrics_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/quality_metrics_test.cc
  DEPS aiq_quality_metrics aiq_metrics)
