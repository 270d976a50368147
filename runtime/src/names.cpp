// String names of the enums (stable: they appear in logs, config files and recorded events).
#include <libra/event_type.hpp>
#include <libra/payloads.hpp>

#include <array>

namespace libra {

std::string_view to_string(priority p) noexcept {
  switch (p) {
    case priority::risk:
      return "RISK";
    case priority::orders:
      return "ORDERS";
    case priority::signals:
      return "SIGNALS";
    case priority::market_data:
      return "MARKET_DATA";
  }
  return "INVALID";
}

std::string_view to_string(side s) noexcept {
  switch (s) {
    case side::none:
      return "none";
    case side::buy:
      return "buy";
    case side::sell:
      return "sell";
  }
  return "invalid";
}

std::string_view to_string(order_type t) noexcept {
  switch (t) {
    case order_type::market:
      return "market";
    case order_type::limit:
      return "limit";
  }
  return "invalid";
}

std::string_view to_string(order_status s) noexcept {
  switch (s) {
    case order_status::pending:
      return "pending";
    case order_status::accepted:
      return "accepted";
    case order_status::partially_filled:
      return "partially_filled";
    case order_status::filled:
      return "filled";
    case order_status::cancelled:
      return "cancelled";
    case order_status::rejected:
      return "rejected";
  }
  return "invalid";
}

std::string_view to_string(order_reason r) noexcept {
  switch (r) {
    case order_reason::none:
      return "none";
    case order_reason::max_order_quantity:
      return "max_order_quantity";
    case order_reason::max_notional:
      return "max_notional";
    case order_reason::max_position:
      return "max_position";
    case order_reason::rate_limit:
      return "rate_limit";
    case order_reason::circuit_breaker:
      return "circuit_breaker";
    case order_reason::no_market:
      return "no_market";
    case order_reason::venue_rejected:
      return "venue_rejected";
    case order_reason::user_cancelled:
      return "user_cancelled";
  }
  return "invalid";
}

std::string_view to_string(risk_rule r) noexcept {
  switch (r) {
    case risk_rule::max_order_quantity:
      return "max_order_quantity";
    case risk_rule::max_notional:
      return "max_notional";
    case risk_rule::max_position:
      return "max_position";
    case risk_rule::rate_limit:
      return "rate_limit";
    case risk_rule::drawdown:
      return "drawdown";
    case risk_rule::circuit_breaker:
      return "circuit_breaker";
    case risk_rule::other:
      return "other";
  }
  return "invalid";
}

} // namespace libra
