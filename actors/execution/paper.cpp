// execution.paper: a simulated venue. Keeps the best bid/ask per instrument from TICKs; an
// approved intent (ORDER_NEW, status pending, sent directly by risk) is accepted (ORDER_NEW,
// status accepted) and filled at the ask (buy) or bid (sell) after latency_ms, with a fee of
// fee_rate x notional (ORDER_FILLED); without a quote it is rejected by the venue (no_market).
#include "../trading.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <map>

namespace libra::actors {

namespace {

using fill_atom = caf::atom_constant<caf::atom("fill")>;

struct paper_config {
  double fee_rate;
  std::int64_t latency_ms;
};

struct paper_state {
  paper_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  paper_state(const paper_state&) = delete;
  paper_state& operator=(const paper_state&) = delete;
  // The summary is logged when the state goes (on exit): attached functors run after CAF
  // destroyed the state, so they must not read it.
  ~paper_state() {
    if (log)
      log->info("venue: accepted {} filled {} rejected {}", accepted, filled, rejected);
  }
  std::shared_ptr<spdlog::logger> log;
  std::map<instrument_id, tick> quotes;
  order_id next_id = 1;
  std::uint64_t accepted = 0;
  std::uint64_t filled = 0;
  std::uint64_t rejected = 0;
};

using paper_actor = caf::stateful_actor<paper_state>;

void reject(paper_actor* self, const actor_context& ctx, const event& intent, order o, order_reason why) {
  o.status = order_status::rejected;
  o.reason = why;
  ++self->state.rejected;
  (void)ctx.bus->publish(intent.child_event(event_type::order_rejected, ctx.source, o, intent.time()));
}

void fill_now(paper_actor* self, const actor_context& ctx, const paper_config& cfg, const event& accepted) {
  const auto& o = accepted.get<order>();
  auto q = self->state.quotes.find(o.instrument);
  if (q == self->state.quotes.end())
    return reject(self, ctx, accepted, o, order_reason::no_market);
  const auto px = o.sd == side::buy ? q->second.ask : q->second.bid;
  const auto fee = money::from_double((px * o.qty).to_double() * cfg.fee_rate);
  ++self->state.filled;
  (void)ctx.bus->publish(accepted.child_event(event_type::order_filled, ctx.source,
                                              fill{o.id, o.client_id, o.instrument, px, o.qty, fee, o.sd},
                                              accepted.time() + std::chrono::milliseconds{cfg.latency_ms}));
}

caf::behavior paper(paper_actor* self, actor_context ctx, paper_config cfg) {
  ctx.bus->subscribe(event_type::tick, caf::actor{self});
  self->state.log = ctx.log;
  return {
    on_events([self](const event& e) {
      const auto& t = e.get<tick>();
      self->state.quotes[t.instrument] = t;
    }),
    [self, ctx, cfg](const event& intent) { // from risk: an approved order intent
      auto o = intent.get<order>();
      if (self->state.quotes.count(o.instrument) == 0)
        return reject(self, ctx, intent, o, order_reason::no_market);
      o.id = self->state.next_id++;
      o.status = order_status::accepted;
      ++self->state.accepted;
      auto accepted = intent.child_event(event_type::order_new, ctx.source, o, intent.time());
      (void)ctx.bus->publish(accepted);
      if (cfg.latency_ms > 0)
        self->delayed_send(self, std::chrono::milliseconds{cfg.latency_ms}, fill_atom::value, accepted);
      else
        fill_now(self, ctx, cfg, accepted);
    },
    [self, ctx, cfg](fill_atom, const event& accepted) { fill_now(self, ctx, cfg, accepted); },
    [](run_atom) {},
    [](halt_atom) {},
  };
}

} // namespace

actor_type_info paper_execution_type() {
  return {[](const params& p) -> spawn_fn {
            paper_config cfg{};
            cfg.fee_rate = p.get_in("fee_rate", 0.0001, 0.0, 0.1);
            cfg.latency_ms = p.get_in("latency_ms", std::int64_t{0}, 0, 60'000);
            return [cfg](const actor_context& ctx) { return ctx.system->spawn(paper, ctx, cfg); };
          },
          "simulated venue: fills market orders at the current bid/ask", false};
}

} // namespace libra::actors
