#include "exporter/stats/sort.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

namespace aiq::stats {

void SortFinite(std::span<double> v) {
  constexpr size_t kSmall = 512;
  if (v.size() < kSmall) {
    std::sort(v.begin(), v.end());
    return;
  }
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  constexpr int kPasses = (64 + kBits - 1) / kBits;
  constexpr uint64_t kSign = uint64_t{1} << 63;
  // Not zeroed between calls: fresh multi-megabyte buffers per sort would
  // cost page faults and memsets.
  thread_local std::vector<uint64_t> scratch;
  if (scratch.size() < 2 * v.size()) scratch.resize(2 * v.size());
  std::span<uint64_t> keys(scratch.data(), v.size());
  std::span<uint64_t> tmp(scratch.data() + v.size(), v.size());
  std::vector<std::array<uint32_t, kBuckets>> counts(kPasses);
  for (auto& c : counts) c.fill(0);
  for (size_t i = 0; i < v.size(); ++i) {
    const auto bits = std::bit_cast<uint64_t>(v[i]);
    // Negative: flip all bits (reverses their order); positive: set the sign.
    const uint64_t k = (bits & kSign) != 0 ? ~bits : bits | kSign;
    keys[i] = k;
    for (int p = 0; p < kPasses; ++p) {
      ++counts[static_cast<size_t>(p)][(k >> (p * kBits)) & (kBuckets - 1)];
    }
  }
  for (int p = 0; p < kPasses; ++p) {
    std::array<uint32_t, kBuckets>& c = counts[static_cast<size_t>(p)];
    if (c[(keys[0] >> (p * kBits)) & (kBuckets - 1)] == keys.size()) continue;
    uint32_t sum = 0;
    for (uint32_t& x : c) sum += std::exchange(x, sum);
    for (uint64_t k : keys) tmp[c[(k >> (p * kBits)) & (kBuckets - 1)]++] = k;
    std::swap(keys, tmp);
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const uint64_t k = keys[i];
    v[i] = std::bit_cast<double>((k & kSign) != 0 ? k & ~kSign : ~k);
  }
}

}  // namespace aiq::stats
