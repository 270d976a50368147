// A snapshot of a bus's counters (bus::stats() returns a copy).
#pragma once

#include <libra/event_type.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace libra {

/// The upper bounds (ns) of latency_summary::cumulative: 1 us to 1 s, as a Prometheus
/// histogram's `le` buckets.
inline constexpr std::array<std::int64_t, 18> latency_bounds_ns{
  1'000,     2'500,     5'000,     10'000,     25'000,     50'000,     100'000,     250'000,     500'000,
  1'000'000, 2'500'000, 5'000'000, 10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000};

/// Publish -> handler-start latency of one priority, from a log-linear histogram (<= 1/16
/// relative error per bucket). Sampled: every RISK event, every event of a publish_many call, and
/// 1 in 16 of the other events published one by one (a clock read costs as much as a publish).
struct latency_summary {
  std::uint64_t count = 0;
  std::chrono::nanoseconds p50{0};
  std::chrono::nanoseconds p90{0};
  std::chrono::nanoseconds p99{0};
  std::chrono::nanoseconds p999{0};
  std::chrono::nanoseconds max{0};
  std::chrono::nanoseconds sum{0}; ///< of every sample counted
  /// Samples at or below each bound of latency_bounds_ns, cumulative. A sample counts under the
  /// first bound that the upper end of its histogram bucket fits (within 1/16 of its value):
  /// never under a bound it may exceed.
  std::array<std::uint64_t, latency_bounds_ns.size()> cumulative{};
};

/// Counters of one bus. Units are *events*: an event with three subscribers counts once in
/// published/dispatched/dropped/pending, and each event a publish_many call refuses counts once
/// in rejected; each handler run counts once in handler_calls. An event
/// is dispatched when it has been handed to every subscriber it matched (or matched none).
/// At every quiet point: published == dispatched + dropped + pending.
struct bus_stats {
  std::uint64_t published = 0;       ///< accepted by publish()/publish_many()
  std::uint64_t dispatched = 0;      ///< left the broker's stages for all its subscribers
  std::uint64_t pending = 0;         ///< accepted, not yet dispatched or dropped
  std::uint64_t rejected = 0;        ///< refused: rejected_full + rejected_closed
  std::uint64_t rejected_full = 0;   ///< refused because capacity events were pending
  std::uint64_t rejected_closed = 0; ///< refused because the bus was stopping or stopped
  std::uint64_t dropped = 0;         ///< accepted but discarded by stop() at its timeout
  std::uint64_t errors = 0;          ///< handlers and filters that threw
  std::uint64_t handler_calls = 0;   ///< handler invocations (one per event per subscription)
  std::uint64_t conflated = 0; ///< events a conflating subscriber skipped (a newer one of the instrument replaced it)
  std::size_t handlers = 0;    ///< live subscriptions
  std::array<std::uint64_t, priority_count> pending_by_priority{}; ///< indexed by priority: use pending_of()
  std::array<std::uint64_t, priority_count> dropped_by_priority{}; ///< indexed by priority: use dropped_of()
  std::array<latency_summary, priority_count> latency{};           ///< indexed by priority: use latency_of()

  /// Events of priority p pending (a snapshot while busy).
  [[nodiscard]] std::uint64_t pending_of(priority p) const noexcept { return pending_by_priority.at(index(p)); }
  /// Events of priority p dropped by stop() at its timeout.
  [[nodiscard]] std::uint64_t dropped_of(priority p) const noexcept { return dropped_by_priority.at(index(p)); }
  /// Publish -> handler-start latency of priority p.
  [[nodiscard]] const latency_summary& latency_of(priority p) const noexcept { return latency.at(index(p)); }

private:
  static constexpr std::size_t index(priority p) noexcept { return static_cast<std::size_t>(p); }
};

} // namespace libra
