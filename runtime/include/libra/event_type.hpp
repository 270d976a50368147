// The 18 event types and the 4 dispatch priorities, with the total type -> priority map.
// Pure constexpr values: safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace libra {

/// Dispatch priority. A *lower* value is *more* urgent (as CAF's message_priority::high == 0).
enum class priority : std::uint8_t {
  risk = 0,        ///< risk limit breaches, drawdown warnings, circuit breakers: overtake all
  orders = 1,      ///< order lifecycle and position changes
  signals = 2,     ///< strategy signals
  market_data = 3, ///< ticks, bars, books, and system/lifecycle notices
};

/// Number of priorities; valid priorities are 0 .. priority_count - 1.
inline constexpr std::size_t priority_count = 4;

/// Every kind of event the bus carries.
enum class event_type : std::uint8_t {
  tick,                 ///< quote/trade tick (payload: tick)
  bar,                  ///< OHLCV bar (payload: bar)
  order_book,           ///< order book snapshot (payload: order_book_ptr)
  order_new,            ///< order accepted by the venue (payload: order)
  order_filled,         ///< order (partially) filled (payload: fill)
  order_cancelled,      ///< order cancelled (payload: order)
  order_rejected,       ///< order denied by risk or rejected by the venue (payload: order)
  position_opened,      ///< position went from flat to non-flat (payload: position)
  position_closed,      ///< position went back to flat (payload: position)
  position_updated,     ///< position size, price or PnL changed (payload: position)
  risk_limit_breach,    ///< a risk rule was hit (payload: risk)
  drawdown_warning,     ///< drawdown passed the warning threshold (payload: risk)
  circuit_breaker,      ///< trading halted (payload: risk)
  signal,               ///< strategy intent (payload: signal)
  gateway_connected,    ///< a gateway came up (payload: system)
  gateway_disconnected, ///< a gateway went down (payload: system)
  strategy_started,     ///< a strategy started (payload: system)
  strategy_stopped,     ///< a strategy stopped (payload: system)
};

/// Number of event types; valid types are 0 .. event_type_count - 1.
inline constexpr std::size_t event_type_count = 18;

/// The payload family an event type carries.
enum class payload_kind : std::uint8_t {
  tick,
  bar,
  order_book,
  order,
  fill,
  position,
  risk,
  signal,
  system,
};

/// Priority of an event type. The switch has no default: a new type without a priority does
/// not compile (-Wswitch, and the static_assert below fails in constant evaluation).
constexpr priority priority_of(event_type t) noexcept {
  switch (t) {
    case event_type::risk_limit_breach:
    case event_type::drawdown_warning:
    case event_type::circuit_breaker:
      return priority::risk;
    case event_type::order_new:
    case event_type::order_filled:
    case event_type::order_cancelled:
    case event_type::order_rejected:
    case event_type::position_opened:
    case event_type::position_closed:
    case event_type::position_updated:
      return priority::orders;
    case event_type::signal:
      return priority::signals;
    case event_type::tick:
    case event_type::bar:
    case event_type::order_book:
    case event_type::gateway_connected:
    case event_type::gateway_disconnected:
    case event_type::strategy_started:
    case event_type::strategy_stopped:
      return priority::market_data;
  }
  return static_cast<priority>(0xff); // unreachable for valid types; fails the check below
}

/// Payload family of an event type (total, like priority_of).
constexpr payload_kind payload_kind_of(event_type t) noexcept {
  switch (t) {
    case event_type::tick:
      return payload_kind::tick;
    case event_type::bar:
      return payload_kind::bar;
    case event_type::order_book:
      return payload_kind::order_book;
    case event_type::order_new:
    case event_type::order_cancelled:
    case event_type::order_rejected:
      return payload_kind::order;
    case event_type::order_filled:
      return payload_kind::fill;
    case event_type::position_opened:
    case event_type::position_closed:
    case event_type::position_updated:
      return payload_kind::position;
    case event_type::risk_limit_breach:
    case event_type::drawdown_warning:
    case event_type::circuit_breaker:
      return payload_kind::risk;
    case event_type::signal:
      return payload_kind::signal;
    case event_type::gateway_connected:
    case event_type::gateway_disconnected:
    case event_type::strategy_started:
    case event_type::strategy_stopped:
      return payload_kind::system;
  }
  return static_cast<payload_kind>(0xff);
}

/// All event types, in enumeration order.
inline constexpr std::array<event_type, event_type_count> all_event_types = [] {
  std::array<event_type, event_type_count> out{};
  for (std::size_t i = 0; i < event_type_count; ++i)
    out[i] = static_cast<event_type>(i);
  return out;
}();

namespace detail {
constexpr bool maps_are_total() {
  for (auto t : all_event_types) {
    if (static_cast<std::size_t>(priority_of(t)) >= priority_count)
      return false;
    if (static_cast<std::uint8_t>(payload_kind_of(t)) > static_cast<std::uint8_t>(payload_kind::system))
      return false;
  }
  // The enumerator after the last one must be the count: catches a type added to the enum
  // but not to event_type_count.
  return static_cast<std::size_t>(event_type::strategy_stopped) + 1 == event_type_count;
}
} // namespace detail
static_assert(detail::maps_are_total(), "every event_type needs a priority and a payload kind");

/// Bit for one type in a type mask (a set of event types).
constexpr std::uint32_t type_bit(event_type t) noexcept { return std::uint32_t{1} << static_cast<unsigned>(t); }

/// Mask of all types of one priority.
constexpr std::uint32_t types_of(priority p) noexcept {
  std::uint32_t m = 0;
  for (auto t : all_event_types)
    if (priority_of(t) == p)
      m |= type_bit(t);
  return m;
}

/// Stable upper-case name, e.g. "CIRCUIT_BREAKER" (the seed's spelling, used in logs and files).
std::string_view to_string(event_type t) noexcept;
/// "RISK", "ORDERS", "SIGNALS", "MARKET_DATA".
std::string_view to_string(priority p) noexcept;
/// Inverse of to_string(event_type); false when the name is unknown.
bool from_string(std::string_view name, event_type& out) noexcept;

} // namespace libra
