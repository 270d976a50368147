// Settings of one bus. Plain value; validated by bus's constructor.
#pragma once

#include <libra/export.hpp>

#include <libra/event_type.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace spdlog {
class logger;
} // namespace spdlog

namespace libra {

/// Share of capacity each priority may fill, indexed by priority (RISK first).
using admission_share_table = std::array<double, priority_count>;
/// RISK may fill the bus; ORDERS 95%, SIGNALS 90%, MARKET_DATA 80% of it, so that market data can
/// never crowd out the orders, fills and risk events it causes.
inline constexpr admission_share_table default_admission_shares{1.00, 0.95, 0.90, 0.80};
/// One FIFO capacity shared by every priority (the seed's bus): nothing kept for higher ones.
inline constexpr admission_share_table no_reserve{1.0, 1.0, 1.0, 1.0};

/// Largest credit window (a 9.4 MB ring per subscriber).
inline constexpr std::uint32_t max_credit_window = 65'536;

/// Bus settings. Defaults are the ones measured in bench/ (see the broker's header).
struct bus_config {
  /// Capacity: events admitted and not yet dispatched (stats().pending). publish() refuses an
  /// event of priority p once floor(capacity x admission_shares[p]) events are pending.
  std::size_t capacity = 100'000;
  /// Non-increasing from RISK (which must be 1) down, each in (0, 1]. Each share below the one
  /// above it must keep at least one slot for the higher priorities after rounding down, so a
  /// capacity too small for the shares is refused (at the defaults, 2 is: MARKET_DATA and
  /// SIGNALS would both round to 1 slot).
  admission_share_table admission_shares = default_admission_shares;
  /// Subscriptions one event type may have; subscribe() throws beyond it.
  std::size_t max_handlers_per_type = 100;
  /// W: events of one priority a subscriber may have unacknowledged (handed to it, handler not
  /// yet finished), at most max_credit_window. Each subscriber actor gets a ring of W slots
  /// (rounded up to a power of two, 144 bytes each) for each of ORDERS, SIGNALS and MARKET_DATA,
  /// and takes its next event from the highest-priority one: a large W costs memory, not the
  /// latency of higher priorities (an order waits for at most one tick handler). RISK has a ring
  /// of its own (64 slots). The default 64:32 is the measured compromise (bench/README.md,
  /// "Issue 16: the default W:k chosen"): the full trading chain sustains 1M ticks/s (16:8: ~650k), for
  /// up to 41 us more (p90) before an order or signal behind a tick backlog.
  std::uint32_t credit_window = 64;
  /// k: events the broker hands over at a time, and the subscriber returns credit for at a time.
  std::uint32_t batch_size = 32;
  /// Drain timeout used by the destructor of a running bus.
  std::chrono::milliseconds default_drain_timeout{5000};
  /// Name used in logs ("libra.<name>").
  std::string name = "bus";
  /// Where the bus logs (its level and sinks are the host's to set: a test or an embedding
  /// application passes its own, e.g. one at warn, or with a null sink). Empty: a clone of
  /// spdlog's default logger at construction, named "libra.<name>".
  std::shared_ptr<spdlog::logger> logger;
};

/// What is wrong with cfg, or empty when it is valid (bus's constructor throws bus_error with it;
/// loaders call it to report the problem at the setting).
[[nodiscard]] LIBRA_API std::string invalid_reason(const bus_config& cfg);

/// Events of priority p that cfg admits at most (floor(capacity x share)).
[[nodiscard]] constexpr std::uint64_t admission_limit(const bus_config& cfg, priority p) noexcept {
  return static_cast<std::uint64_t>(static_cast<double>(cfg.capacity)
                                    * cfg.admission_shares[static_cast<std::size_t>(p)]);
}

} // namespace libra
