// risk.engine: pre-trade checks on order intents made from signals, and post-trade drawdown
// monitoring. Denied intents become ORDER_REJECTED (reason set) plus a RISK_LIMIT_BREACH; approved
// ones go straight to the execution actor. Drawdown: equity = capital + realized + unrealized PnL
// over all instruments; drawdown = (peak equity - equity) / capital. At drawdown_warning a
// DRAWDOWN_WARNING (once per crossing); at drawdown_halt a CIRCUIT_BREAKER, after which every
// intent is denied (reason circuit_breaker) until the run restarts.
#include "../trading.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <map>

namespace libra::actors {

namespace {

struct risk_config {
  std::string execution;
  quantity order_quantity;
  quantity max_order_quantity;
  double max_notional;
  quantity max_position;
  std::int64_t max_orders_per_second;
  double capital;
  double drawdown_warning;
  double drawdown_halt;
};

struct risk_state {
  risk_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  risk_state(const risk_state&) = delete;
  risk_state& operator=(const risk_state&) = delete;
  // The summary is logged when the state goes (on exit): attached functors run after CAF
  // destroyed the state, so they must not read it.
  ~risk_state() {
    if (!log)
      return;
    std::string why;
    for (const auto& [reason, n] : denied)
      why += fmt::format(" {}={}", reason, n);
    log->info("risk: approved {} denied{}{}", approved, why.empty() ? " 0" : why,
              halted ? " (circuit breaker tripped)" : "");
  }
  std::shared_ptr<spdlog::logger> log;
  caf::actor execution;
  std::uint64_t next_client_id = 1;
  std::map<instrument_id, position> positions;
  std::deque<timestamp> recent; // event times of approved intents in the last second
  double peak_equity = 0;
  bool warned = false;
  bool halted = false;
  std::uint64_t approved = 0;
  std::map<std::string, std::uint64_t> denied;
};

using risk_actor = caf::stateful_actor<risk_state>;

void deny(risk_actor* self, const actor_context& ctx, const event& cause, order o, order_reason why, risk_rule rule,
          double limit, double value) {
  o.status = order_status::rejected;
  o.reason = why;
  ++self->state.denied[std::string{to_string(why)}];
  (void)ctx.bus->publish(cause.child_event(event_type::order_rejected, ctx.source, o, cause.time()));
  auto msg = std::make_shared<const std::string>(
    fmt::format("{} denied: {} {} > limit {}", o.instrument.view(), to_string(rule), value, limit));
  (void)ctx.bus->publish(cause.child_event(event_type::risk_limit_breach, ctx.source,
                                           risk{rule, o.instrument, limit, value, msg}, cause.time()));
}

void on_signal(risk_actor* self, const actor_context& ctx, const risk_config& cfg, const event& e) {
  auto& st = self->state;
  const auto& s = e.get<signal>();
  order o;
  o.client_id = st.next_client_id++;
  o.instrument = s.instrument;
  o.qty = cfg.order_quantity;
  o.px = s.reference;
  o.sd = s.sd;
  o.type = order_type::market;
  o.status = order_status::pending;
  if (st.halted)
    return deny(self, ctx, e, o, order_reason::circuit_breaker, risk_rule::circuit_breaker, 0, 1);
  if (o.qty > cfg.max_order_quantity)
    return deny(self, ctx, e, o, order_reason::max_order_quantity, risk_rule::max_order_quantity,
                cfg.max_order_quantity.to_double(), o.qty.to_double());
  const auto notional = (o.px * o.qty).to_double();
  if (notional > cfg.max_notional)
    return deny(self, ctx, e, o, order_reason::max_notional, risk_rule::max_notional, cfg.max_notional, notional);
  const auto current = st.positions.count(o.instrument) ? st.positions[o.instrument].qty : quantity{};
  const auto after = o.sd == side::buy ? current + o.qty : current - o.qty;
  if ((after.raw() < 0 ? -after : after) > cfg.max_position)
    return deny(self, ctx, e, o, order_reason::max_position, risk_rule::max_position, cfg.max_position.to_double(),
                std::abs(after.to_double()));
  while (!st.recent.empty() && e.time() - st.recent.front() >= std::chrono::seconds{1})
    st.recent.pop_front();
  if (static_cast<std::int64_t>(st.recent.size()) >= cfg.max_orders_per_second)
    return deny(self, ctx, e, o, order_reason::rate_limit, risk_rule::rate_limit,
                static_cast<double>(cfg.max_orders_per_second), static_cast<double>(st.recent.size() + 1));
  st.recent.push_back(e.time());
  if (!st.execution)
    st.execution = ctx.directory->find(cfg.execution);
  if (!st.execution) {
    ctx.log->error("no execution actor '{}': intent dropped", cfg.execution);
    return;
  }
  ++st.approved;
  // The position is only known after the fill: count the intent now so that a burst of
  // signals cannot overshoot max_position before the fills come back.
  st.positions[o.instrument].instrument = o.instrument;
  st.positions[o.instrument].qty = after;
  self->send(st.execution, e.child_event(event_type::order_new, ctx.source, o, e.time()));
}

void on_position(risk_actor* self, const actor_context& ctx, const risk_config& cfg, const event& e) {
  auto& st = self->state;
  const auto& p = e.get<position>();
  st.positions[p.instrument] = p;
  double pnl = 0;
  for (const auto& [inst, pos] : st.positions)
    pnl += pos.realized_pnl.to_double() + pos.unrealized_pnl.to_double();
  const auto equity = cfg.capital + pnl;
  st.peak_equity = std::max(st.peak_equity, equity);
  const auto drawdown = (st.peak_equity - equity) / cfg.capital;
  auto message = [&](const char* what, double limit) {
    return std::make_shared<const std::string>(
      fmt::format("{}: drawdown {:.4f}% of capital >= {:.4f}% (equity {:.2f}, peak {:.2f})", what, drawdown * 100,
                  limit * 100, equity, st.peak_equity));
  };
  if (!st.halted && drawdown >= cfg.drawdown_halt) {
    st.halted = true;
    ctx.log->warn("circuit breaker: drawdown {:.4f}% >= {:.4f}%", drawdown * 100, cfg.drawdown_halt * 100);
    (void)ctx.bus->publish(e.child_event(
      event_type::circuit_breaker, ctx.source,
      risk{risk_rule::circuit_breaker, {}, cfg.drawdown_halt, drawdown, message("trading halted", cfg.drawdown_halt)},
      e.time()));
  } else if (!st.warned && drawdown >= cfg.drawdown_warning) {
    st.warned = true;
    (void)ctx.bus->publish(e.child_event(
      event_type::drawdown_warning, ctx.source,
      risk{risk_rule::drawdown, {}, cfg.drawdown_warning, drawdown, message("drawdown warning", cfg.drawdown_warning)},
      e.time()));
  } else if (st.warned && drawdown < cfg.drawdown_warning) {
    st.warned = false; // re-arm: warn again on the next crossing
  }
}

caf::behavior risk_engine(risk_actor* self, actor_context ctx, risk_config cfg) {
  self->state.peak_equity = cfg.capital;
  for (auto t :
       {event_type::signal, event_type::position_opened, event_type::position_updated, event_type::position_closed})
    ctx.bus->subscribe(t, caf::actor{self});
  self->state.log = ctx.log;
  return {
    on_events([self, ctx, cfg](const event& e) {
      if (e.type() == event_type::signal)
        on_signal(self, ctx, cfg, e);
      else
        on_position(self, ctx, cfg, e);
    }),
    [](run_atom) {},
    [](halt_atom) {},
  };
}

} // namespace

actor_type_info risk_engine_type() {
  return {[](const params& p) -> spawn_fn {
            risk_config cfg{};
            cfg.execution = p.require_actor("execution");
            cfg.order_quantity = quantity::from_double(p.get_in("order_quantity", 1.0, 1e-9, 1e12));
            cfg.max_order_quantity = quantity::from_double(p.get_in("max_order_quantity", 1e9, 1e-9, 1e12));
            cfg.max_notional = p.get_in("max_notional", 1e12, 0.0, 1e15);
            cfg.max_position = quantity::from_double(p.get_in("max_position", 1e9, 0.0, 1e12));
            cfg.max_orders_per_second = p.get_in("max_orders_per_second", std::int64_t{1000}, 1, 1'000'000'000);
            cfg.capital = p.get_in("capital", 1'000'000.0, 1.0, 1e15);
            cfg.drawdown_warning = p.get_in("drawdown_warning", 0.05, 0.0, 1.0);
            cfg.drawdown_halt = p.get_in("drawdown_halt", 0.10, 0.0, 1.0);
            if (cfg.drawdown_halt < cfg.drawdown_warning)
              p.fail("drawdown_halt", "must not be below drawdown_warning");
            return [cfg](const actor_context& ctx) { return ctx.system->spawn(risk_engine, ctx, cfg); };
          },
          "pre-trade limits and drawdown circuit breaker", false};
}

} // namespace libra::actors
