// latency_histogram.h: LatencyHistogram, a log-linear latency histogram with
// a bounded relative error, in the manner of HdrHistogram.
//
// Every client records one latency per completed request. Keeping every
// sample would cost memory in proportion to the run and a sort at the end;
// this histogram has a fixed size (about 37 KiB), records in O(1) with no
// allocation, and answers any percentile to within kRelativeError of the
// exact value.
//
//   LatencyHistogram h;
//   h.Record(absl::Microseconds(812));
//   h.Record(absl::Milliseconds(3));
//   absl::Duration p99 = h.ValueAtPercentile(99.0);   // within 0.4%
//
// Layout. Values are kept in integer nanoseconds. Values below 256 ns have a
// bucket each (exact). Above that, each power-of-two range [2^k, 2^(k+1)) is
// split into 128 equal buckets, so a bucket is never wider than 1/128 of its
// lower bound. A percentile is answered with the middle of the bucket that
// holds the sample of that rank, hence within 1/256 of the sample's value:
// better than two significant decimal digits. Values up to kMaxTrackable
// (about 2 h 26 min) are bucketed; longer ones count in the last bucket, and
// Max() is still exact. Negative durations (a clock stepping back) count as 0.
//
// Thread safety: none. A histogram belongs to one thread at a time; clients
// with several threads keep one per thread and Merge() them at the end.
#ifndef ASYNCWORK_CLIENTS_LATENCY_HISTOGRAM_H_
#define ASYNCWORK_CLIENTS_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace asyncwork::clients {

class LatencyHistogram {
 public:
  // kRelativeError bounds |reported - exact| / exact for ValueAtPercentile,
  // for every value up to kMaxTrackable.
  static constexpr double kRelativeError = 1.0 / 256;
  // kMaxTrackable is the largest value with its own bucket: 2^43 - 1 ns.
  static constexpr absl::Duration kMaxTrackable =
      absl::Nanoseconds((int64_t{1} << 43) - 1);

  // LatencyHistogram allocates its buckets once; recording never allocates.
  LatencyHistogram();

  // Record adds one sample.
  void Record(absl::Duration latency) { RecordN(latency, 1); }

  // RecordN adds `count` samples of the same value (count 0 does nothing).
  void RecordN(absl::Duration latency, uint64_t count);

  // Merge adds every sample of `other` to this histogram, exactly as if each
  // had been recorded here.
  void Merge(const LatencyHistogram& other);

  // ValueAtPercentile returns the value of the sample at nearest rank
  // ceil(percentile / 100 * Count()) (at least rank 1), that is, the
  // smallest recorded value that at least `percentile` percent of the
  // samples do not exceed, within kRelativeError. `percentile` is clamped to
  // [0, 100]; 100 returns Max() and 0 returns Min() exactly. An empty
  // histogram returns absl::ZeroDuration().
  absl::Duration ValueAtPercentile(double percentile) const;

  // Count returns the number of samples recorded.
  uint64_t Count() const { return count_; }
  // Min and Max return the exact smallest and largest samples (zero when
  // empty).
  absl::Duration Min() const;
  absl::Duration Max() const;
  // Mean returns the exact mean of the samples (zero when empty).
  absl::Duration Mean() const;

  // Reset forgets every sample; the buckets stay allocated.
  void Reset();

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  // Sum of all samples in nanoseconds; 128 bits so that even 2^64 samples of
  // the longest value cannot overflow.
  unsigned __int128 sum_ns_ = 0;
  int64_t min_ns_ = 0;
  int64_t max_ns_ = 0;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_LATENCY_HISTOGRAM_H_
