// The 18 event types and the 4 dispatch priorities, with the total type -> priority map.
// Pure constexpr values: safe from any thread.
#pragma once

#include <libra/export.hpp>

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

/// What one event type is: its stable name (the seed's spelling, used in logs and files), its
/// priority and its payload family.
struct event_type_info {
  event_type type;
  std::string_view name;
  libra::priority priority;
  payload_kind payload;
};

/// The one table of event types, in enumeration order: priority_of, payload_kind_of, to_string
/// and from_string all read it.
inline constexpr std::array<event_type_info, event_type_count> event_types{{
  {event_type::tick, "TICK", priority::market_data, payload_kind::tick},
  {event_type::bar, "BAR", priority::market_data, payload_kind::bar},
  {event_type::order_book, "ORDER_BOOK", priority::market_data, payload_kind::order_book},
  {event_type::order_new, "ORDER_NEW", priority::orders, payload_kind::order},
  {event_type::order_filled, "ORDER_FILLED", priority::orders, payload_kind::fill},
  {event_type::order_cancelled, "ORDER_CANCELLED", priority::orders, payload_kind::order},
  {event_type::order_rejected, "ORDER_REJECTED", priority::orders, payload_kind::order},
  {event_type::position_opened, "POSITION_OPENED", priority::orders, payload_kind::position},
  {event_type::position_closed, "POSITION_CLOSED", priority::orders, payload_kind::position},
  {event_type::position_updated, "POSITION_UPDATED", priority::orders, payload_kind::position},
  {event_type::risk_limit_breach, "RISK_LIMIT_BREACH", priority::risk, payload_kind::risk},
  {event_type::drawdown_warning, "DRAWDOWN_WARNING", priority::risk, payload_kind::risk},
  {event_type::circuit_breaker, "CIRCUIT_BREAKER", priority::risk, payload_kind::risk},
  {event_type::signal, "SIGNAL", priority::signals, payload_kind::signal},
  {event_type::gateway_connected, "GATEWAY_CONNECTED", priority::market_data, payload_kind::system},
  {event_type::gateway_disconnected, "GATEWAY_DISCONNECTED", priority::market_data, payload_kind::system},
  {event_type::strategy_started, "STRATEGY_STARTED", priority::market_data, payload_kind::system},
  {event_type::strategy_stopped, "STRATEGY_STOPPED", priority::market_data, payload_kind::system},
}};

/// Priority of an event type (an invalid type gets an invalid priority, 0xff).
constexpr priority priority_of(event_type t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < event_type_count ? event_types[i].priority : static_cast<priority>(0xff);
}

/// Payload family of an event type (an invalid type gets an invalid kind, 0xff).
constexpr payload_kind payload_kind_of(event_type t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < event_type_count ? event_types[i].payload : static_cast<payload_kind>(0xff);
}

/// All event types, in enumeration order.
inline constexpr std::array<event_type, event_type_count> all_event_types = [] {
  std::array<event_type, event_type_count> out{};
  for (std::size_t i = 0; i < event_type_count; ++i)
    out[i] = static_cast<event_type>(i);
  return out;
}();

namespace detail {
constexpr bool table_is_complete() {
  for (std::size_t i = 0; i < event_type_count; ++i) {
    const auto& info = event_types[i];
    if (static_cast<std::size_t>(info.type) != i || info.name.empty())
      return false; // out of enumeration order, or unnamed
    for (std::size_t j = 0; j < i; ++j)
      if (event_types[j].name == info.name)
        return false; // two types, one name
  }
  // The enumerator after the last one must be the count: catches a type added to the enum
  // but not to event_type_count (and so not to the table).
  return static_cast<std::size_t>(event_type::strategy_stopped) + 1 == event_type_count;
}
} // namespace detail
static_assert(detail::table_is_complete(), "event_types must list every event_type once, in order, with its name");

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

/// Stable upper-case name, e.g. "CIRCUIT_BREAKER" ("INVALID" for an invalid type).
constexpr std::string_view to_string(event_type t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < event_type_count ? event_types[i].name : std::string_view{"INVALID"};
}
/// "RISK", "ORDERS", "SIGNALS", "MARKET_DATA".
LIBRA_API std::string_view to_string(priority p) noexcept;
/// Inverse of to_string(event_type); false when the name is unknown.
constexpr bool from_string(std::string_view name, event_type& out) noexcept {
  for (const auto& info : event_types)
    if (info.name == name) {
      out = info.type;
      return true;
    }
  return false;
}

} // namespace libra
