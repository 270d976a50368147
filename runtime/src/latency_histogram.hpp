// Lock-free log-linear latency histogram (HdrHistogram-style: 16 linear sub-buckets per power of
// two, so a bucket's width is at most 1/16 of its value). Many writers, any reader.
#pragma once

#include <libra/bus_stats.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace libra::detail {

class latency_histogram {
public:
  static constexpr int sub_bits = 4;
  static constexpr std::size_t sub_count = std::size_t{1} << sub_bits;
  static constexpr std::size_t bucket_count = sub_count + (64 - sub_bits) * sub_count;

  static constexpr std::size_t bucket_of(std::uint64_t v) noexcept {
    if (v < sub_count)
      return static_cast<std::size_t>(v);
    const int e = static_cast<int>(std::bit_width(v)) - 1; // >= sub_bits
    const auto sub = static_cast<std::size_t>((v >> (e - sub_bits)) & (sub_count - 1));
    return sub_count + static_cast<std::size_t>(e - sub_bits) * sub_count + sub;
  }
  /// Largest value that falls into bucket b (what percentiles report: never optimistic).
  static constexpr std::uint64_t upper_bound(std::size_t b) noexcept {
    if (b < sub_count)
      return b;
    const auto e = static_cast<int>((b - sub_count) / sub_count) + sub_bits;
    const auto sub = (b - sub_count) % sub_count;
    const std::uint64_t lo = (std::uint64_t{1} << e) | (static_cast<std::uint64_t>(sub) << (e - sub_bits));
    return lo + (std::uint64_t{1} << (e - sub_bits)) - 1;
  }

  void record(std::int64_t ns) noexcept {
    const auto v = static_cast<std::uint64_t>(ns < 0 ? 0 : ns);
    buckets_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    auto m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
  }

  [[nodiscard]] latency_summary summary() const noexcept {
    std::array<std::uint64_t, bucket_count> snap{};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      snap[i] = buckets_[i].load(std::memory_order_relaxed);
      total += snap[i];
    }
    latency_summary out;
    out.count = total;
    if (total == 0)
      return out;
    out.sum = std::chrono::nanoseconds{static_cast<std::int64_t>(sum_.load(std::memory_order_relaxed))};
    // Each bucket under the first bound its upper end fits (buckets and bounds both ascend), then
    // summed up; what lies above the last bound is only in count (Prometheus' +Inf).
    for (std::size_t i = 0, bound = 0; i < bucket_count && bound < latency_bounds_ns.size(); ++i) {
      while (bound < latency_bounds_ns.size() && upper_bound(i) > static_cast<std::uint64_t>(latency_bounds_ns[bound]))
        ++bound;
      if (bound < latency_bounds_ns.size())
        out.cumulative[bound] += snap[i];
    }
    for (std::size_t j = 1; j < latency_bounds_ns.size(); ++j)
      out.cumulative[j] += out.cumulative[j - 1];
    const auto max = max_.load(std::memory_order_relaxed);
    auto at = [&](double q) {
      const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
      std::uint64_t seen = 0;
      for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += snap[i];
        if (seen >= rank)
          return std::chrono::nanoseconds{static_cast<std::int64_t>(std::min(upper_bound(i), max))};
      }
      return std::chrono::nanoseconds{static_cast<std::int64_t>(max)};
    };
    out.p50 = at(0.50);
    out.p90 = at(0.90);
    out.p99 = at(0.99);
    out.p999 = at(0.999);
    out.max = std::chrono::nanoseconds{static_cast<std::int64_t>(max)};
    return out;
  }

private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> max_{0};
  std::atomic<std::uint64_t> sum_{0};
};

static_assert(latency_histogram::bucket_of(latency_histogram::upper_bound(100)) == 100);
static_assert(latency_histogram::bucket_of(latency_histogram::upper_bound(100) + 1) == 101);

} // namespace libra::detail
