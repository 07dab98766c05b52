// Test helpers for the checkpoint codecs (EncodeTo / DecodeFrom, see
// exporter/util/binary_codec.h): encode a value to bytes, decode bytes into
// a default-constructed value, and check that every truncation of an
// encoding is DataLoss and leaves the target untouched.
//
// Works for any default-constructible T with
// `void EncodeTo(util::BinaryWriter&) const` and
// `absl::Status DecodeFrom(util::BinaryReader&)`.
//
// Example, given `const aiq::stats::CategoryCounts& value`:
//   #include "exporter/stats/categorical.h"
//   const std::string bytes = aiq::testing::Encoded(value);
//   aiq::stats::CategoryCounts copy =
//       aiq::testing::Decoded<aiq::stats::CategoryCounts>(bytes);
//   aiq::testing::ExpectTruncationIsDataLoss(bytes,
//                                            aiq::stats::CategoryCounts());
#ifndef AIQ_EXPORTER_TESTING_CODEC_TEST_UTIL_H_
#define AIQ_EXPORTER_TESTING_CODEC_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "exporter/util/binary_codec.h"

namespace aiq::testing {

template <typename T>
std::string Encoded(const T& t) {
  util::BinaryWriter w;
  t.EncodeTo(w);
  return w.Release();
}

// Decodes all of `bytes` into a default-constructed T (failures reported).
template <typename T>
T Decoded(const std::string& bytes) {
  T t;
  util::BinaryReader r(bytes);
  EXPECT_TRUE(t.DecodeFrom(r).ok());
  EXPECT_TRUE(r.Finish().ok());
  return t;
}

// Every proper prefix of `full` is DataLoss and leaves `target` as it was.
template <typename T>
void ExpectTruncationIsDataLoss(const std::string& full, T target) {
  const std::string before = Encoded(target);
  for (size_t n = 0; n < full.size(); ++n) {
    util::BinaryReader r(std::string_view(full).substr(0, n));
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
    EXPECT_EQ(Encoded(target), before) << n;
  }
}

}  // namespace aiq::testing

#endif  // AIQ_EXPORTER_TESTING_CODEC_TEST_UTIL_H_
