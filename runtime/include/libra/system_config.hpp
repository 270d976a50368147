// CAF settings libra relies on; apply before constructing the caf::actor_system.
#pragma once

#include <libra/export.hpp>

#include <caf/actor_system_config.hpp>

#include <cstddef>

namespace libra {

/// How CAF's idle workers wait for work.
enum class idle_policy {
  /// Poll for about a millisecond after the last job before backing off to CAF's sleeps. An
  /// event that arrives at an idle bus then waits microseconds, not a sleep: at 100k ev/s,
  /// publish -> handler p50 went from ~70 us (CAF's default: 50 us sleeps between polls) to
  /// ~4 us (bench/latency.cpp). Costs CPU while events trickle in.
  responsive,
  /// CAF's defaults: cheaper on an idle machine, tens of microseconds per wake-up.
  frugal,
};

/// Scheduler settings for a bus-driven system:
/// - scheduler.max-throughput = 32: CAF's default (unbounded) lets a busy broker keep its worker
///   until its mailbox is empty while the subscribers it just woke wait on that same worker
///   (measured: broker -> subscriber hop 100-700 us, vs 4-6 us bounded; see the broker header).
/// - scheduler.max-threads = workers (0 keeps CAF's default of max(cores, 4)).
/// - work-stealing polling per `idle` (above).
LIBRA_API void configure_system(caf::actor_system_config& cfg, std::size_t workers = 0,
                                idle_policy idle = idle_policy::responsive);

/// The value configure_system sets for scheduler.max-throughput.
inline constexpr std::size_t default_max_throughput = 32;

/// Polls an idle worker makes before backing off, with idle_policy::responsive (CAF: 100).
inline constexpr std::size_t responsive_poll_attempts = 30'000;

} // namespace libra
