// Typed event payloads, one struct per family. All but order_book and risk's message are
// trivially copyable; each fits the 64 bytes an event reserves for its payload.
#pragma once

#include <libra/export.hpp>

#include <libra/fixed_point.hpp>
#include <libra/symbol.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace libra {

/// Buy or sell (for a trade tick: the aggressor side; none when unknown).
enum class side : std::uint8_t { none, buy, sell };
/// Order type.
enum class order_type : std::uint8_t { market, limit };
/// Order state as last reported.
enum class order_status : std::uint8_t { pending, accepted, partially_filled, filled, cancelled, rejected };
/// Why an order was denied, rejected or cancelled. "denied" reasons come from risk, before the venue.
enum class order_reason : std::uint8_t {
  none,
  max_order_quantity, ///< denied by risk: quantity above the per-order limit
  max_notional,       ///< denied by risk: notional above the per-order limit
  max_position,       ///< denied by risk: resulting position above the per-instrument limit
  rate_limit,         ///< denied by risk: too many orders per second
  circuit_breaker,    ///< denied by risk: trading halted
  no_market,          ///< rejected by the venue: no quote to fill against
  venue_rejected,     ///< rejected by the venue for another reason
  user_cancelled,     ///< cancelled on request
};
/// Risk rule behind a risk event.
enum class risk_rule : std::uint8_t {
  max_order_quantity,
  max_notional,
  max_position,
  rate_limit,
  drawdown,
  circuit_breaker,
  other,
};

/// Venue/bus-wide order id, assigned when an order is first published. A strong type: it does not
/// mix with a client order id or a count. `order_id{}` (0) means none; value() gives the number.
enum class order_id : std::uint64_t {};
/// The strategy's own id for an order, carried unchanged through risk, venue and fills.
enum class client_order_id : std::uint64_t {};
[[nodiscard]] constexpr std::uint64_t value(order_id id) noexcept { return static_cast<std::uint64_t>(id); }
[[nodiscard]] constexpr std::uint64_t value(client_order_id id) noexcept { return static_cast<std::uint64_t>(id); }

/// Quote and/or trade tick. A quote-only tick has zero last/last_size; a trade-only tick zero sizes.
struct tick {
  instrument_id instrument;
  price bid;
  price ask;
  quantity bid_size;
  quantity ask_size;
  price last;
  quantity last_size;
  [[nodiscard]] constexpr price mid() const noexcept { return price::from_raw((bid.raw() + ask.raw()) / 2); }
};

/// OHLCV bar; interval is the bar's length (e.g. 1 minute), stamped at bar close.
struct bar {
  instrument_id instrument;
  price open;
  price high;
  price low;
  price close;
  quantity volume;
  std::chrono::nanoseconds interval{0};
};

/// One price level of a book.
struct book_level {
  ::libra::price price;
  quantity size;
};

/// Full-depth order book snapshot; large, so events share it through an immutable pointer.
struct order_book {
  instrument_id instrument;
  std::vector<book_level> bids; ///< best first
  std::vector<book_level> asks; ///< best first
};
using order_book_ptr = std::shared_ptr<const order_book>;

// Field names follow the trading vocabulary (order.price, order.side); where a field is named
// after its type, the type is written qualified (::libra::price) so that the name stays unambiguous.

/// Order intent / order state (ORDER_NEW, ORDER_CANCELLED, ORDER_REJECTED).
struct order {
  order_id id{};
  client_order_id client_id{};
  instrument_id instrument;
  ::libra::quantity quantity;
  ::libra::price price; ///< limit price; for market orders the reference price at decision time
  ::libra::side side = ::libra::side::none;
  order_type type = order_type::market;
  order_status status = order_status::pending;
  order_reason reason = order_reason::none;
};

/// Execution report (ORDER_FILLED).
struct fill {
  order_id id{};
  client_order_id client_id{};
  instrument_id instrument;
  ::libra::price price;
  ::libra::quantity quantity;
  money fee;
  ::libra::side side = ::libra::side::none;
};

/// Position state (POSITION_OPENED/UPDATED/CLOSED); quantity < 0 is short.
struct position {
  instrument_id instrument;
  ::libra::quantity quantity;
  price average_price;
  money realized_pnl;
  money unrealized_pnl;
};

/// Risk event (RISK_LIMIT_BREACH, DRAWDOWN_WARNING, CIRCUIT_BREAKER). Limit and value are in
/// the rule's unit (quantity, notional, orders per second, drawdown fraction).
struct risk {
  risk_rule rule = risk_rule::other;
  instrument_id instrument; ///< empty for account-wide rules
  double limit = 0;
  double value = 0;
  std::shared_ptr<const std::string> message; ///< human-readable; rare path, so heap is fine
  [[nodiscard]] std::string_view text() const noexcept {
    return message ? std::string_view{*message} : std::string_view{};
  }
};

/// Strategy intent (SIGNAL); strength in [0, 1].
struct signal {
  instrument_id instrument;
  ::libra::side side = ::libra::side::none;
  double strength = 0;
  price reference; ///< price the signal was computed on
};

/// Component lifecycle notice (GATEWAY_*, STRATEGY_*).
struct system {
  source_id component;
};

static_assert(std::is_trivially_copyable_v<tick> && sizeof(tick) <= 64);
static_assert(std::is_trivially_copyable_v<bar> && sizeof(bar) <= 64);
static_assert(std::is_trivially_copyable_v<order> && sizeof(order) <= 64);
static_assert(std::is_trivially_copyable_v<fill> && sizeof(fill) <= 64);
static_assert(std::is_trivially_copyable_v<position> && sizeof(position) <= 64);
static_assert(std::is_trivially_copyable_v<signal> && sizeof(signal) <= 64);
static_assert(std::is_trivially_copyable_v<system> && sizeof(system) <= 64);
static_assert(sizeof(risk) <= 64 && sizeof(order_book_ptr) <= 64);

LIBRA_API std::string_view to_string(side s) noexcept;
LIBRA_API std::string_view to_string(order_type t) noexcept;
LIBRA_API std::string_view to_string(order_status s) noexcept;
LIBRA_API std::string_view to_string(order_reason r) noexcept;
LIBRA_API std::string_view to_string(risk_rule r) noexcept;

} // namespace libra
