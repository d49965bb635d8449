#include "clients/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace asyncwork::clients {
namespace {

// 2^kSubBucketBits buckets per power of two; kRelativeError follows from it.
constexpr int kSubBucketBits = 7;
constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;
// Values below kExactLimit have a bucket each.
constexpr uint64_t kExactLimit = kSubBucketCount << 1;
constexpr uint64_t kMaxTrackableNs = (uint64_t{1} << 43) - 1;

static_assert(LatencyHistogram::kRelativeError ==
                  1.0 / static_cast<double>(kExactLimit),
              "half a bucket relative to its lower bound");

// BucketIndex maps a value to its bucket. Shifting the value right until it
// fits in kSubBucketBits + 1 bits keeps its top 8 significant bits; the shift
// picks the power-of-two range and those bits the bucket inside it, so every
// value below kExactLimit maps to itself and the index grows monotonically.
constexpr size_t BucketIndex(uint64_t ns) {
  int width = std::bit_width(ns);
  int shift = std::max(0, width - (kSubBucketBits + 1));
  return static_cast<size_t>(static_cast<uint64_t>(shift) * kSubBucketCount +
                             (ns >> shift));
}

// BucketMiddle is the inverse of BucketIndex: the middle of the values that
// map to `index`, the point nearest to all of them in relative terms.
uint64_t BucketMiddle(size_t index) {
  if (index < kExactLimit) return index;
  uint64_t shift = index / kSubBucketCount - 1;
  uint64_t sub = index - shift * kSubBucketCount;
  return (sub << shift) + ((uint64_t{1} << shift) >> 1);
}

constexpr size_t kBucketCount = BucketIndex(kMaxTrackableNs) + 1;

// ToClampedNs turns a latency into bucketable nanoseconds: negative ones
// (a clock that stepped back) become 0 and infinite ones saturate.
int64_t ToClampedNs(absl::Duration latency) {
  return std::max<int64_t>(0, absl::ToInt64Nanoseconds(latency));
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

void LatencyHistogram::RecordN(absl::Duration latency, uint64_t count) {
  if (count == 0) return;
  int64_t ns = ToClampedNs(latency);
  uint64_t bucketed = std::min(static_cast<uint64_t>(ns), kMaxTrackableNs);
  counts_[BucketIndex(bucketed)] += count;
  if (count_ == 0) {
    min_ns_ = max_ns_ = ns;
  } else {
    min_ns_ = std::min(min_ns_, ns);
    max_ns_ = std::max(max_ns_, ns);
  }
  count_ += count;
  sum_ns_ += static_cast<unsigned __int128>(ns) * count;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_ns_ = other.min_ns_;
    max_ns_ = other.max_ns_;
  } else {
    min_ns_ = std::min(min_ns_, other.min_ns_);
    max_ns_ = std::max(max_ns_, other.max_ns_);
  }
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
}

absl::Duration LatencyHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return absl::ZeroDuration();
  // NaN compares false both ways; treat it as the median rather than guess.
  if (std::isnan(percentile)) percentile = 50.0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  if (percentile == 100.0) return Max();
  if (percentile == 0.0) return Min();
  double exact_rank =
      std::ceil(percentile / 100.0 * static_cast<double>(count_));
  uint64_t rank =
      std::clamp<uint64_t>(static_cast<uint64_t>(exact_rank), 1, count_);
  // Only buckets between min and max can hold samples.
  size_t first =
      BucketIndex(std::min(static_cast<uint64_t>(min_ns_), kMaxTrackableNs));
  size_t last =
      BucketIndex(std::min(static_cast<uint64_t>(max_ns_), kMaxTrackableNs));
  uint64_t seen = 0;
  for (size_t i = first; i <= last; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The middle of the bucket may lie outside [min, max]; the sample of
      // this rank does not, so clamping only brings the answer closer.
      int64_t middle = static_cast<int64_t>(BucketMiddle(i));
      return absl::Nanoseconds(std::clamp(middle, min_ns_, max_ns_));
    }
  }
  return Max();  // not reached: the buckets hold count_ samples
}

absl::Duration LatencyHistogram::Min() const {
  return absl::Nanoseconds(min_ns_);
}

absl::Duration LatencyHistogram::Max() const {
  return absl::Nanoseconds(max_ns_);
}

absl::Duration LatencyHistogram::Mean() const {
  if (count_ == 0) return absl::ZeroDuration();
  // Integer nanoseconds first, then the remainder as a fraction, so the mean
  // is exact to well below a nanosecond.
  unsigned __int128 whole = sum_ns_ / count_;
  unsigned __int128 rest = sum_ns_ % count_;
  return absl::Nanoseconds(static_cast<int64_t>(whole)) +
         absl::Nanoseconds(static_cast<double>(rest) /
                           static_cast<double>(count_));
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  sum_ns_ = 0;
  min_ns_ = max_ns_ = 0;
}

}  // namespace asyncwork::clients
