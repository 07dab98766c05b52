#include "exporter/model/bounded_interner.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "exporter/testing/codec_test_util.h"

namespace aiq::model {
namespace {

using Overflow = BoundedInterner::Overflow;

TEST(BoundedInternerTest, LearnsUpToCapThenRejects) {
  BoundedInterner v({}, 2, Overflow::kReject);
  EXPECT_EQ(v.Intern("a"), 0);
  EXPECT_EQ(v.Intern("b"), 1);
  EXPECT_EQ(v.Intern("a"), 0);
  EXPECT_FALSE(v.CanIntern("c"));
  EXPECT_EQ(v.Intern("c"), BoundedInterner::kRejected);
  EXPECT_EQ(v.size(), 2);
}

// Find compares a few names directly and hashes many: the same answers on
// both sides of the switch, including prefixes and names that differ only
// in their last byte.
TEST(BoundedInternerTest, FindIsTheSameForFewAndManyNames) {
  BoundedInterner b({}, /*cap=*/40, BoundedInterner::Overflow::kReject);
  for (int i = 0; i < 30; ++i) {
    const std::string name = "class-" + std::to_string(i);
    ASSERT_EQ(b.Intern(name), i);
    for (int j = 0; j <= i; ++j) {
      EXPECT_EQ(b.Find("class-" + std::to_string(j)), j) << i;
    }
    EXPECT_EQ(b.Find("class-"), BoundedInterner::kRejected) << i;
    EXPECT_EQ(b.Find("class-" + std::to_string(i + 1)),
              BoundedInterner::kRejected)
        << i;
    EXPECT_EQ(b.Find(""), BoundedInterner::kRejected) << i;
  }
}

TEST(BoundedInternerTest, FoldsIntoOtherPastTheCap) {
  BoundedInterner r({}, 2, Overflow::kFoldIntoOther);
  r.Intern("x");
  r.Intern("y");
  EXPECT_EQ(r.Intern("z"), 2);
  EXPECT_EQ(r.Intern("w"), 2);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"x", "y", "other"}));
  for (int i = 0; i < 1000; ++i) r.Intern("n" + std::to_string(i));
  EXPECT_EQ(r.size(), 3);  // bounded whatever the traffic
}

TEST(BoundedInternerTest, DeclaredNamesOnly) {
  BoundedInterner c({"a", "b"}, 100, Overflow::kReject);
  EXPECT_EQ(c.Intern("b"), 1);
  EXPECT_EQ(c.Intern("c"), BoundedInterner::kRejected);
  BoundedInterner s({"pii"}, 100, Overflow::kFoldIntoOther);
  EXPECT_EQ(s.Intern("toxicity"), 1);
  EXPECT_EQ(s.names(), (std::vector<std::string>{"pii", "other"}));
}

TEST(BoundedInternerTest, TrafficNamedOtherIsReused) {
  BoundedInterner r({}, 2, Overflow::kFoldIntoOther);
  r.Intern("other");
  r.Intern("x");
  EXPECT_EQ(r.Intern("y"), 0);
  EXPECT_EQ(r.size(), 2);
}

using aiq::testing::Encoded;

// Decodes `bytes` into `target`; the status, and target unchanged on error.
absl::Status Decode(const std::string& bytes, BoundedInterner& target) {
  const std::string before = Encoded(target);
  util::BinaryReader r(bytes);
  absl::Status s = target.DecodeFrom(r);
  if (s.ok()) s = r.Finish();
  if (!s.ok()) {
    EXPECT_EQ(Encoded(target), before);
  }
  return s;
}

TEST(BoundedInternerCodecTest, LearnedNamesAndOtherRoundTrip) {
  for (Overflow overflow : {Overflow::kReject, Overflow::kFoldIntoOther}) {
    BoundedInterner learned({}, 3, overflow);
    for (std::string_view n : {"v2", "v1", "v2", "v3", "v4", "v5"}) {
      learned.Intern(n);
    }
    BoundedInterner restored({}, 3, overflow);
    restored.Intern("something else");
    ASSERT_TRUE(Decode(Encoded(learned), restored).ok());
    EXPECT_EQ(Encoded(restored), Encoded(learned));
    EXPECT_EQ(restored.names(), learned.names());
    for (std::string_view n : {"v1", "v2", "v3", "v9", "other", "v10"}) {
      EXPECT_EQ(restored.Find(n), learned.Find(n)) << n;
      EXPECT_EQ(restored.CanIntern(n), learned.CanIntern(n)) << n;
      EXPECT_EQ(restored.Intern(n), learned.Intern(n)) << n;
    }
    EXPECT_EQ(restored.names(), learned.names());
  }
  // "other" learned from traffic is the fold target after decoding too.
  BoundedInterner r({}, 2, Overflow::kFoldIntoOther);
  r.Intern("other");
  r.Intern("x");
  r.Intern("y");
  BoundedInterner restored({}, 2, Overflow::kFoldIntoOther);
  ASSERT_TRUE(Decode(Encoded(r), restored).ok());
  EXPECT_EQ(restored.Intern("z"), 0);
  // Declared names with a folded "other".
  BoundedInterner s({"pii"}, 100, Overflow::kFoldIntoOther);
  s.Intern("toxicity");
  BoundedInterner s2({"pii"}, 100, Overflow::kFoldIntoOther);
  ASSERT_TRUE(Decode(Encoded(s), s2).ok());
  EXPECT_EQ(s2.names(), (std::vector<std::string>{"pii", "other"}));
  EXPECT_EQ(s2.Intern("bias"), 1);
  EXPECT_EQ(s2.size(), 2);
}

TEST(BoundedInternerCodecTest, TruncatedInputIsDataLossAndChangesNothing) {
  BoundedInterner learned({}, 2, Overflow::kFoldIntoOther);
  for (std::string_view n : {"a", "bc", "d"}) learned.Intern(n);
  BoundedInterner target({}, 2, Overflow::kFoldIntoOther);
  target.Intern("zz");
  const std::string full = Encoded(learned);
  for (size_t n = 0; n < full.size(); ++n) {
    const absl::Status s = Decode(full.substr(0, n), target);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
  }
  EXPECT_EQ(target.names(), (std::vector<std::string>{"zz"}));
}

TEST(BoundedInternerCodecTest, MalformedNamesAreDataLoss) {
  BoundedInterner target({}, 5, Overflow::kFoldIntoOther);
  util::BinaryWriter dup;  // a name twice
  dup.Signed(1);
  dup.Strings(std::vector<std::string>{});
  dup.Strings(std::vector<std::string>{"a", "a"});
  dup.Signed(-1);
  absl::Status s = Decode(dup.data(), target);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'a' appears twice"), std::string::npos) << s;
  util::BinaryWriter other;  // "other" pointing at a name that is not
  other.Signed(1);
  other.Strings(std::vector<std::string>{});
  other.Strings(std::vector<std::string>{"a", "b"});
  other.Signed(1);
  EXPECT_EQ(Decode(other.data(), target).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(target.size(), 0);
}

TEST(BoundedInternerCodecTest, OtherConfigurationIsFailedPrecondition) {
  BoundedInterner declared({"a", "b"}, 100, Overflow::kReject);
  declared.Intern("a");
  BoundedInterner other_names({"a", "c"}, 100, Overflow::kReject);
  absl::Status s = Decode(Encoded(declared), other_names);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "names: the checkpoint declares [a, b], the configuration [a, c]");
  BoundedInterner learning({}, 100, Overflow::kReject);
  EXPECT_EQ(Decode(Encoded(declared), learning).code(),
            absl::StatusCode::kFailedPrecondition);

  BoundedInterner folds({}, 3, Overflow::kFoldIntoOther);
  BoundedInterner rejects({}, 3, Overflow::kReject);
  s = Decode(Encoded(folds), rejects);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "names: the checkpoint folds names past the cap, this "
            "configuration rejects them");

  BoundedInterner many({}, 4, Overflow::kReject);
  for (std::string_view n : {"a", "b", "c", "d"}) many.Intern(n);
  BoundedInterner smaller_cap({}, 3, Overflow::kReject);
  s = Decode(Encoded(many), smaller_cap);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "names: the checkpoint learned 4 names, more than this "
            "configuration's cap of 3");
  BoundedInterner larger_cap({}, 5, Overflow::kReject);
  ASSERT_TRUE(Decode(Encoded(many), larger_cap).ok());
  EXPECT_EQ(larger_cap.Intern("e"), 4);  // a larger cap keeps learning
}

}  // namespace
}  // namespace aiq::model
