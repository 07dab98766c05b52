// Ascending sort of finite doubles, several times faster than std::sort on
// the window and column sizes the exporter sorts (10^4 .. 10^6 values): an
// LSD radix sort on order-preserving 64-bit keys, 11 bits per pass, skipping
// passes in which every key has the same digit. Small inputs use std::sort.
// Scratch buffers are kept per thread, so repeated sorts do not allocate.
//
// Example, given `std::vector<double>& v` (finite values; NaN has no
// order):
//   #include <vector>
//   aiq::stats::SortFinite(v);
#ifndef AIQ_EXPORTER_STATS_SORT_H_
#define AIQ_EXPORTER_STATS_SORT_H_

#include <span>

namespace aiq::stats {

// Sorts `values` ascending; -0.0 sorts before +0.0. Values must not be NaN.
void SortFinite(std::span<double> values);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_SORT_H_
