// Settings of one bus. Plain value; validated by bus's constructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace libra {

/// Largest credit window (a 9.4 MB ring per subscriber).
inline constexpr std::uint32_t max_credit_window = 65'536;

/// Bus settings. Defaults are the ones measured in bench/ (see the broker's header).
struct bus_config {
  /// Events admitted and not yet dispatched; publish() refuses beyond it. Lower priorities get
  /// a share only: MARKET_DATA 80%, SIGNALS 90%, ORDERS 95%, RISK all of it, so that market data
  /// can never crowd out the orders, fills and risk events it causes.
  std::size_t max_queue_size = 100'000;
  /// Subscriptions one event type may have; subscribe() throws beyond it.
  std::size_t max_handlers_per_type = 100;
  /// W: events a subscriber may have unacknowledged (handed to it, handler not yet finished), at
  /// most max_credit_window. Each subscriber actor gets a ring of W slots (rounded up to a power
  /// of two, 144 bytes each). W bounds how far a backlog of lower-priority events can delay an
  /// ORDERS or SIGNALS event at a subscriber; RISK events go past it.
  std::uint32_t credit_window = 16;
  /// k: events the broker hands over at a time, and the subscriber returns credit for at a time.
  std::uint32_t batch_size = 8;
  /// Drain timeout used by the destructor of a running bus.
  std::chrono::milliseconds default_drain_timeout{5000};
  /// Name used in logs ("libra.<name>").
  std::string name = "bus";
};

} // namespace libra
