// Events of every type with every payload field set (no field at its default), for the journal's
// round-trip and golden-file tests. Deterministic: fixed ids and times.
#pragma once

#include <libra/event.hpp>

#include <string_view>
#include <vector>

namespace libra::testing {

inline std::vector<event> journal_samples() {
  using namespace std::chrono_literals;
  std::vector<event> out;
  std::uint64_t n = 0;
  // Names built outside the generic lambda: clang 14 crashes on a consteval call inside one.
  const source_id source{std::string_view{"gw.sample"}};
  auto make = [&](event_type type, auto payload) {
    ++n;
    trace_context tc{trace_id{0x0123456789abcdefULL + n, 0xfedcba9876543210ULL ^ n}, span_id{0x1000 + n},
                     static_cast<std::uint8_t>(n % 2)};
    const timestamp ts{1'577'836'800'123'456'789ns + std::chrono::nanoseconds{n * 1000}};
    out.push_back(event::create(type, source, std::move(payload), tc, ts).with_sequence(100 + n));
  };
  const instrument_id eur{std::string_view{"EUR/USD"}};
  auto p = [](std::int64_t raw) { return price::from_raw(raw); };
  auto q = [](std::int64_t raw) { return quantity::from_raw(raw); };
  auto m = [](std::int64_t raw) { return money::from_raw(raw); };
  make(event_type::tick, tick{eur, p(1'121'200'000), p(1'121'300'000), q(1'000'000'000'000), q(2'000'000'000'000),
                              p(1'121'250'000), q(-5)});
  make(event_type::bar,
       bar{instrument_id{std::string_view{"6EH4.XCME"}}, p(1), p(4), p(-2), p(3), q(77), std::chrono::minutes{1}});
  auto book = std::make_shared<order_book>();
  book->instrument = eur;
  book->bids = {{p(1'120'000'000), q(10)}, {p(1'119'000'000), q(20)}, {p(1'118'000'000), q(30)}};
  book->asks = {{p(1'121'000'000), q(11)}, {p(1'122'000'000), q(21)}};
  make(event_type::order_book, order_book_ptr{book});
  make(event_type::order_book, order_book_ptr{std::make_shared<order_book>()}); // empty book
  const order o{order_id{42},
                client_order_id{7},
                eur,
                q(100'000'000'000'000),
                p(1'121'200'000),
                side::sell,
                order_type::limit,
                order_status::partially_filled,
                order_reason::max_notional};
  make(event_type::order_new, o);
  make(event_type::order_filled,
       fill{order_id{42}, client_order_id{7}, eur, p(1'121'250'000), q(50'000'000'000'000), m(-2'242'500), side::buy});
  auto o2 = o;
  o2.status = order_status::cancelled;
  o2.reason = order_reason::user_cancelled;
  make(event_type::order_cancelled, o2);
  o2.status = order_status::rejected;
  o2.reason = order_reason::no_market;
  make(event_type::order_rejected, o2);
  const position pos{eur, q(-100'000'000'000'000), p(1'121'200'000), m(123'456'789), m(-987'654'321)};
  make(event_type::position_opened, pos);
  make(event_type::position_closed, pos);
  make(event_type::position_updated, pos);
  make(event_type::risk_limit_breach,
       risk{risk_rule::max_notional, eur, 200000.5, 224250.25,
            std::make_shared<const std::string>("notional 224250.25 above the limit 200000.5: \xc3\xa9 \"quoted\"")});
  make(event_type::drawdown_warning, risk{risk_rule::drawdown, instrument_id{}, 0.0005, 0.00071, nullptr});
  make(event_type::circuit_breaker,
       risk{risk_rule::circuit_breaker, eur, -1e300, 5e-324, std::make_shared<const std::string>("")});
  make(event_type::signal, signal{eur, side::buy, 0.75, p(1'121'200'001)});
  make(event_type::gateway_connected, system{source_id{std::string_view{"gw.eurusd"}}});
  make(event_type::gateway_disconnected, system{source_id{std::string_view{"gw.eurusd.longest.na"}}});
  make(event_type::strategy_started, system{source_id{std::string_view{"strategy.sma"}}});
  make(event_type::strategy_stopped, system{source_id{}});
  return out;
}

} // namespace libra::testing
