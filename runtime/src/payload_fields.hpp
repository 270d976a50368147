// Every payload's fields, in one order and under one name each: the JSON form of an event
// (libra/json.hpp: the recorder's lines, libra-journal cat --json) and the journal's text form
// (journal/render.cpp: cat, trace) both walk them here, so that the two never disagree.
#pragma once

#include <libra/event.hpp>

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

namespace libra::detail {

/// Calls `v(key, value)` for each field of e's payload, where value is a std::string_view, a
/// fixed-point decimal, a std::uint64_t or std::int64_t, or a double, and
/// `v.levels(key, levels)` for an order book's sides.
template <class Visitor>
void visit_payload_fields(const event& e, Visitor& v) {
  e.visit([&v](const auto& p) {
    using P = std::decay_t<decltype(p)>;
    if constexpr (std::is_same_v<P, libra::tick>) {
      v("instrument", p.instrument.view());
      v("bid", p.bid);
      v("ask", p.ask);
      v("bid_size", p.bid_size);
      v("ask_size", p.ask_size);
      v("last", p.last);
      v("last_size", p.last_size);
    } else if constexpr (std::is_same_v<P, libra::bar>) {
      v("instrument", p.instrument.view());
      v("open", p.open);
      v("high", p.high);
      v("low", p.low);
      v("close", p.close);
      v("volume", p.volume);
      v("interval_ns", static_cast<std::int64_t>(p.interval.count()));
    } else if constexpr (std::is_same_v<P, libra::order_book_ptr>) {
      v("instrument", p->instrument.view());
      v.levels("bids", p->bids);
      v.levels("asks", p->asks);
    } else if constexpr (std::is_same_v<P, libra::order>) {
      v("id", value(p.id));
      v("client_id", value(p.client_id));
      v("instrument", p.instrument.view());
      v("side", to_string(p.side));
      v("order_type", to_string(p.type));
      v("quantity", p.quantity);
      v("price", p.price);
      v("status", to_string(p.status));
      v("reason", to_string(p.reason));
    } else if constexpr (std::is_same_v<P, libra::fill>) {
      v("id", value(p.id));
      v("client_id", value(p.client_id));
      v("instrument", p.instrument.view());
      v("side", to_string(p.side));
      v("price", p.price);
      v("quantity", p.quantity);
      v("fee", p.fee);
    } else if constexpr (std::is_same_v<P, libra::position>) {
      v("instrument", p.instrument.view());
      v("quantity", p.quantity);
      v("average_price", p.average_price);
      v("realized_pnl", p.realized_pnl);
      v("unrealized_pnl", p.unrealized_pnl);
    } else if constexpr (std::is_same_v<P, libra::risk>) {
      v("rule", to_string(p.rule));
      v("instrument", p.instrument.view());
      v("limit", p.limit);
      v("value", p.value);
      v("message", p.text());
    } else if constexpr (std::is_same_v<P, libra::signal>) {
      v("instrument", p.instrument.view());
      v("side", to_string(p.side));
      v("strength", p.strength);
      v("reference", p.reference);
    } else {
      static_assert(std::is_same_v<P, libra::system>);
      v("component", p.component.view());
    }
  });
}

} // namespace libra::detail
