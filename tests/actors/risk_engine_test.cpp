// risk.engine: intents from signals, each pre-trade limit with its reason and breach event,
// in-flight exposure, the event-time rate window, and drawdown warning -> circuit breaker.
#include "trading_support.hpp"

#include <catch2/catch.hpp>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

namespace {

std::string risk_yaml(const std::string& extra) { return "{execution: venue, " + extra + "}"; }

/// A position report as position.manager would publish it.
event position_event(event_type type, const char* qty, const char* realized, const char* unrealized,
                     instrument_id inst = "EUR/USD") {
  return event::create(
    type, "positions",
    position{inst, *quantity::parse(qty), *price::parse("1.1"), *money::parse(realized), *money::parse(unrealized)});
}

/// Checks one denial: ORDER_REJECTED + RISK_LIMIT_BREACH, children of the signal.
void check_denied(const std::vector<event>& rejected, const std::vector<event>& breaches, std::size_t i,
                  const event& sig, order_reason why, risk_rule rule) {
  REQUIRE(rejected.size() > i);
  REQUIRE(breaches.size() > i);
  const auto& o = rejected[i].get<order>();
  CHECK(o.status == order_status::rejected);
  CHECK(o.reason == why);
  CHECK(o.side == sig.get<signal>().side);
  CHECK(o.price == sig.get<signal>().reference);
  CHECK(rejected[i].trace_id() == sig.trace_id());
  CHECK(rejected[i].source() == "risk");
  const auto& r = breaches[i].get<risk>();
  CHECK(r.rule == rule);
  CHECK(r.instrument == "EUR/USD");
  CHECK(breaches[i].trace_id() == sig.trace_id());
  CHECK(breaches[i].priority() == priority::risk);
  CHECK_FALSE(r.text().empty());
}

} // namespace

TEST_CASE_METHOD(trading_fixture, "risk approves a signal as a pending market intent sent to execution",
                 "[actors][risk]") {
  add_stub("venue");
  spawn("risk.engine", "risk", risk_yaml("order_quantity: 1000"));
  start();
  const auto sig = make_signal(side::sell, "1.12345", t0);
  publish(sig);
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 1);
  const auto intent = sent_to("venue")[0];
  CHECK(intent.type() == event_type::order_new);
  CHECK(intent.trace_id() == sig.trace_id());
  CHECK(intent.time() == sig.time());
  const auto& o = intent.get<order>();
  CHECK(o.client_id == client_order_id{1});
  CHECK(o.id == order_id{}); // the venue assigns ids
  CHECK(o.instrument == "EUR/USD");
  CHECK(o.side == side::sell);
  CHECK(o.quantity == *quantity::parse("1000"));
  CHECK(o.price == *price::parse("1.12345"));
  CHECK(o.type == order_type::market);
  CHECK(o.status == order_status::pending);
}

TEST_CASE_METHOD(trading_fixture, "risk denies by max_order_quantity and max_notional", "[actors][risk]") {
  add_stub("venue");
  const bool by_quantity = GENERATE(true, false);
  spawn("risk.engine", "risk",
        risk_yaml(by_quantity ? "order_quantity: 10, max_order_quantity: 5" : "order_quantity: 10, max_notional: 11"));
  start();
  const auto sig = make_signal(side::buy, "1.2", t0); // notional 12
  publish(sig);
  run_until_idle();
  const auto evs = published({event_type::order_rejected, event_type::risk_limit_breach});
  REQUIRE(evs.size() == 2);
  check_denied(of_type(evs, event_type::order_rejected), of_type(evs, event_type::risk_limit_breach), 0, sig,
               by_quantity ? order_reason::max_order_quantity : order_reason::max_notional,
               by_quantity ? risk_rule::max_order_quantity : risk_rule::max_notional);
  const auto breach = of_type(evs, event_type::risk_limit_breach).at(0); // a copy: of_type returns a temporary
  const auto& r = breach.get<risk>();
  CHECK(r.limit == Approx(by_quantity ? 5.0 : 11.0));
  CHECK(r.value == Approx(by_quantity ? 10.0 : 12.0));
  CHECK(sent_to("venue").empty());
}

TEST_CASE_METHOD(trading_fixture, "risk denies by max_position counting filled and in-flight quantity",
                 "[actors][risk]") {
  add_stub("venue");
  const auto denials = [this] { return published({event_type::order_rejected, event_type::risk_limit_breach}); };
  spawn("risk.engine", "risk", risk_yaml("order_quantity: 1, max_position: 2"));
  start();
  // Filled: long 1 (reported by the position manager).
  publish(position_event(event_type::position_opened, "1", "0", "0"));
  run_until_idle();
  // In flight: one more buy -> 2 (allowed), a third -> 3 (denied), then a sell -> 1 (allowed).
  publish(make_signal(side::buy, "1.1", t0));
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 1);
  const auto third = make_signal(side::buy, "1.1", t0 + 1s);
  publish(third);
  run_until_idle();
  REQUIRE(denials().size() == 2);
  publish(make_signal(side::sell, "1.1", t0 + 2s));
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 2);
  const auto evs = denials();
  check_denied(of_type(evs, event_type::order_rejected), of_type(evs, event_type::risk_limit_breach), 0, third,
               order_reason::max_position, risk_rule::max_position);
  CHECK(of_type(evs, event_type::risk_limit_breach)[0].get<risk>().value == Approx(3.0));
  CHECK(evs.size() == 2);

  SECTION("a venue rejection releases the in-flight quantity") {
    // Position 1 + in flight (+1 -1) = 1. The venue rejects the sell: exposure 2, a buy is denied;
    // then it rejects the buy too: exposure 1, a buy is approved.
    const auto intents = sent_to("venue");
    auto rejected_by_venue = [](const event& intent) {
      auto o = intent.get<order>();
      o.status = order_status::rejected;
      o.reason = order_reason::no_market;
      return intent.child_event(event_type::order_rejected, "venue", o);
    };
    publish(rejected_by_venue(intents[1]));
    publish(make_signal(side::buy, "1.1", t0 + 3s));
    run_until_idle();
    REQUIRE(denials().size() == 5); // venue rejection + denial (2 events)
    publish(rejected_by_venue(intents[0]));
    publish(make_signal(side::buy, "1.1", t0 + 4s));
    run_until_idle();
    REQUIRE(sent_to("venue").size() == 3);
    const auto all = denials();
    CHECK(of_type(all, event_type::risk_limit_breach).size() == 2);
    CHECK(of_type(all, event_type::order_rejected).back().get<order>().reason == order_reason::no_market);
  }
}

TEST_CASE_METHOD(trading_fixture, "risk reports its signals, approvals and rejections by reason, and a summary line",
                 "[actors][risk][report]") {
  add_stub("venue");
  spawn("risk.engine", "risk", risk_yaml("order_quantity: 1, max_position: 2"));
  start();
  for (int i = 0; i < 3; ++i) // the third would make the position 3
    publish(make_signal(side::buy, "1.1", t0 + std::chrono::seconds{i}));
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 2);
  const auto figures = report("risk").figures();
  CHECK(figures
        == std::vector<figure>{{"signals_total", {}, figure_kind::counter, 3},
                               {"orders_approved_total", {}, figure_kind::counter, 2},
                               {"order_rejections_total", {{"reason", "max_position"}}, figure_kind::counter, 1}});
  stop();
  CHECK(report("risk").summary_lines()
        == std::vector<std::string>{
          "risk               signals 3, approved 2, rejected 1 (max_position 1), max drawdown 0.00%"});
}

TEST_CASE_METHOD(trading_fixture, "risk keeps an intent in flight through a mark of the tick it came from",
                 "[actors][risk]") {
  add_stub("venue");
  spawn("risk.engine", "risk", risk_yaml("max_position: 1"));
  start();
  const auto sig = make_signal(side::buy, "1.1", t0);
  publish(sig);
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 1);
  // The position manager marks an older position on the same tick (same trace id, qty unchanged).
  publish(sig.child_event(event_type::position_updated, "positions",
                          position{"EUR/USD", quantity{}, price{}, money{}, money{}}));
  publish(make_signal(side::buy, "1.1", t0 + 1s)); // 1 in flight + 1 > 1
  run_until_idle();
  REQUIRE(published(event_type::order_rejected).size() == 1);
  CHECK(published(event_type::order_rejected)[0].get<order>().reason == order_reason::max_position);
  // The fill's position event (qty changed) settles it: now a sell is fine, another buy is not.
  publish(sent_to("venue")[0].child_event(
    event_type::position_opened, "positions",
    position{"EUR/USD", *quantity::parse("1"), *price::parse("1.1"), money{}, money{}}));
  publish(make_signal(side::buy, "1.1", t0 + 2s));
  run_until_idle();
  REQUIRE(published(event_type::order_rejected).size() == 2);
  publish(make_signal(side::sell, "1.1", t0 + 3s));
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 2);
  CHECK(published(event_type::order_rejected).size() == 2);
}

TEST_CASE_METHOD(trading_fixture, "risk rate limit is a sliding second of event time", "[actors][risk]") {
  add_stub("venue");
  spawn("risk.engine", "risk", risk_yaml("max_orders_per_second: 2"));
  start();
  // Published back to back (wall time ~0) but stamped with market time: 0, 0.4, 0.8 s -> the
  // third is the third order within one second; at 1.0 s the first has left the window.
  const auto s0 = make_signal(side::buy, "1.1", t0);
  const auto s1 = make_signal(side::sell, "1.1", t0 + 400ms);
  const auto s2 = make_signal(side::buy, "1.1", t0 + 800ms);
  const auto s3 = make_signal(side::buy, "1.1", t0 + 1000ms);
  const auto s4 = make_signal(side::sell, "1.1", t0 + 1100ms);
  for (const auto& s : {s0, s1, s2, s3, s4})
    publish(s);
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 3);
  const auto evs = published({event_type::order_rejected, event_type::risk_limit_breach});
  REQUIRE(evs.size() == 4);
  const auto rejected = of_type(evs, event_type::order_rejected);
  const auto breaches = of_type(evs, event_type::risk_limit_breach);
  REQUIRE(rejected.size() == 2);
  check_denied(rejected, breaches, 0, s2, order_reason::rate_limit, risk_rule::rate_limit);
  check_denied(rejected, breaches, 1, s4, order_reason::rate_limit, risk_rule::rate_limit);
  CHECK(breaches[0].get<risk>().limit == Approx(2.0));
  CHECK(breaches[0].get<risk>().value == Approx(3.0));
  std::vector<trace_id> approved;
  for (const auto& e : sent_to("venue"))
    approved.push_back(e.trace_id());
  CHECK(approved == std::vector<trace_id>{s0.trace_id(), s1.trace_id(), s3.trace_id()});
}

TEST_CASE_METHOD(trading_fixture, "risk drawdown: warning, then circuit breaker, then every intent is denied",
                 "[actors][risk][drawdown]") {
  add_stub("venue");
  const auto watched = [this] {
    return published({event_type::drawdown_warning, event_type::circuit_breaker, event_type::order_rejected,
                      event_type::risk_limit_breach});
  };
  spawn("risk.engine", "risk", risk_yaml("capital: 10000, drawdown_warning: 0.01, drawdown_halt: 0.02"));
  start();
  publish(make_signal(side::buy, "1.1", t0)); // approved while healthy
  run_until_idle();
  REQUIRE(sent_to("venue").size() == 1);
  // Equity 10000 + 50 = peak 10050; then 10050 - 120 -> drawdown 1.2% of capital: warning.
  publish(position_event(event_type::position_opened, "1000", "0", "50"));
  publish(position_event(event_type::position_updated, "1000", "0", "-70"));
  run_until_idle();
  REQUIRE(watched().size() == 1);
  // Hovering at the level (0.8%, then 1.2% again) warns once: re-armed only at a new peak.
  publish(position_event(event_type::position_updated, "1000", "0", "-30"));
  publish(position_event(event_type::position_updated, "1000", "0", "-70"));
  // 1.5%: still in the warning zone, no second warning. GBP adds -100: 2.5% -> circuit breaker.
  publish(position_event(event_type::position_updated, "1000", "0", "-100"));
  publish(position_event(event_type::position_opened, "-5", "-30", "-70", "GBP/USD"));
  run_until_idle();
  auto evs = watched();
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].type() == event_type::drawdown_warning);
  CHECK(evs[0].get<risk>().rule == risk_rule::drawdown);
  CHECK(evs[0].get<risk>().value == Approx(0.012));
  CHECK(evs[0].get<risk>().limit == Approx(0.01));
  CHECK(evs[0].priority() == priority::risk);
  CHECK(evs[1].type() == event_type::circuit_breaker);
  CHECK(evs[1].get<risk>().rule == risk_rule::circuit_breaker);
  CHECK(evs[1].get<risk>().value == Approx(0.025));
  CHECK(evs[1].priority() == priority::risk);

  // Halted: even a signal that reduces the position is denied, and nothing reaches the venue.
  std::vector<event> after;
  for (int i = 0; i < 3; ++i)
    after.push_back(make_signal(i % 2 == 0 ? side::sell : side::buy, "1.1", t0 + std::chrono::seconds{10 + i}));
  for (const auto& s : after)
    publish(s);
  run_until_idle();
  REQUIRE(watched().size() == 2 + 2 * after.size());
  // A new peak re-arms the warning (10400, then 10290: 1.1%), but nothing lifts the halt.
  publish(position_event(event_type::position_updated, "1000", "0", "500"));
  publish(position_event(event_type::position_updated, "1000", "0", "390"));
  after.push_back(make_signal(side::buy, "1.1", t0 + 20s));
  publish(after.back());
  run_until_idle();
  evs = watched();
  REQUIRE(evs.size() == 3 + 2 * after.size());
  const auto rejected = of_type(evs, event_type::order_rejected);
  const auto breaches = of_type(evs, event_type::risk_limit_breach);
  REQUIRE(rejected.size() == after.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    check_denied(rejected, breaches, i, after[i], order_reason::circuit_breaker, risk_rule::circuit_breaker);
  const auto warnings = of_type(evs, event_type::drawdown_warning);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[1].get<risk>().value == Approx(0.011));
  CHECK(of_type(evs, event_type::circuit_breaker).size() == 1);
  CHECK(sent_to("venue").size() == 1);
}

TEST_CASE_METHOD(trading_fixture, "risk without its execution actor logs and sends nothing", "[actors][risk]") {
  spawn("risk.engine", "risk", "{execution: nowhere}");
  start();
  publish(make_signal(side::buy, "1.1", t0));
  run_until_idle();
  CHECK(published(event_type::order_rejected).empty());
  CHECK_THAT(log("risk"), Catch::Contains("nowhere"));
}

TEST_CASE("risk.engine rejects bad params with their key path", "[actors][risk][config]") {
  actor_registry reg;
  actors::register_trading_actors(reg);
  SECTION("execution is required") {
    auto e = factory_error(reg, "risk.engine", "{order_quantity: 1}");
    CHECK(e.key_path() == "actors[0].params.execution");
  }
  SECTION("drawdown_halt below drawdown_warning") {
    auto e = factory_error(reg, "risk.engine", "{execution: venue, drawdown_warning: 0.1, drawdown_halt: 0.05}");
    CHECK(e.key_path() == "actors[0].params.drawdown_halt");
    CHECK_THAT(e.message(), Catch::Contains("drawdown_warning"));
  }
  SECTION("max_orders_per_second is a positive integer") {
    CHECK(factory_error(reg, "risk.engine", "{execution: venue, max_orders_per_second: 0}").key_path()
          == "actors[0].params.max_orders_per_second");
    CHECK(factory_error(reg, "risk.engine", "{execution: venue, max_orders_per_second: fast}").key_path()
          == "actors[0].params.max_orders_per_second");
  }
  SECTION("the execution reference is reported to the loader; unknown keys stay unread") {
    auto p = yaml_params("{execution: venue, max_drawdown: 0.1}");
    (void)reg.find("risk.engine")->factory(p);
    REQUIRE(p.actor_refs().size() == 1);
    CHECK(p.actor_refs()[0].name == "venue");
    CHECK(p.actor_refs()[0].key_path == "actors[0].params.execution");
    CHECK(p.actor_refs()[0].role == "execution");
    REQUIRE(p.unread().size() == 1);
    CHECK(p.unread()[0].key_path() == "actors[0].params.max_drawdown");
  }
}
