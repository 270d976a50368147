// execution.paper: a simulated venue. Keeps the recent quotes per instrument from TICKs. An
// approved intent (a libra::event of type ORDER_NEW, status pending, sent directly by risk) is
// rejected by the venue (ORDER_REJECTED, reason no_market) when the instrument has no quote yet;
// otherwise it gets a venue order id and is accepted (ORDER_NEW, status accepted), then a market
// order fills in full at the ask (buy) or bid (sell) with fee = notional x fee_rate
// (ORDER_FILLED). Only market orders are supported: other types are rejected (venue_rejected).
// Every event is a child of the intent (same trace id).
//
// Which quote, with latency_ms = 0: the quote in force at the intent's EVENT time (the last one
// stamped at or before it), not whatever quote the venue happens to have read when the intent
// arrives. In a replay at full speed the venue's tick stream runs ahead of or behind the
// strategy -> risk path by a varying amount; fills at the quote of the decision time make a
// replay's fills, PnL and risk decisions the same on every run. When the venue has not yet read
// a quote that late (its stream lags), the order waits for it. The fill carries the intent's
// event time.
// With latency_ms > 0 the fill happens that many milliseconds of wall time later (delayed_send),
// at the latest quote of that moment, stamped intent time + latency: a live-trading model, not
// reproducible in a fast replay.
#include "paper.hpp"

#include <libra/log.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

namespace libra::actors {

money fee_for(money notional, double rate) noexcept {
  using wide = libra::detail::int128;
  const auto rate_raw = static_cast<std::int64_t>(std::llround(rate * static_cast<double>(money::scale)));
  wide prod = static_cast<wide>(notional.raw()) * rate_raw;
  const wide half = money::scale / 2;
  prod += prod < 0 ? -half : half;
  return money::from_raw(static_cast<std::int64_t>(prod / money::scale));
}

namespace {

using fill_atom = caf::atom_constant<caf::atom("fill")>;

struct paper_config {
  double fee_rate = 0;
  std::int64_t latency_ms = 0;
};

/// Quotes kept per instrument: those read in the last keep_quotes of WALL time (an intent
/// reaches the venue within milliseconds of its tick, however far a fast replay's tick stream
/// has run ahead in event time), at most max_quotes (~8 MB).
constexpr std::chrono::seconds keep_quotes{10};
constexpr std::size_t max_quotes = 100'000;

struct stamped_quote {
  timestamp time;                             // event time
  std::chrono::steady_clock::time_point read; // when this actor read it
  tick quote;
};

struct market {
  std::deque<stamped_quote> quotes; // in arrival (= event time) order
  std::deque<event> waiting;        // accepted orders, newer than the last quote
};

struct paper_state {
  paper_state() = default; // user-declared: see the CAF 0.17 notes (stateful_actor init)
  paper_state(const paper_state&) = delete;
  paper_state& operator=(const paper_state&) = delete;
  ~paper_state() {
    if (log)
      log->info("venue summary: accepted={} filled={} rejected={} fees={} unpublished={}", accepted, filled, rejected,
                fees.to_string(), unpublished.total());
  }

  std::shared_ptr<spdlog::logger> log;
  std::map<instrument_id, market> markets;
  order_id next_id = 1;
  std::uint64_t accepted = 0;
  std::uint64_t filled = 0;
  std::uint64_t rejected = 0;
  money fees;
  log_limiter unpublished; // a full or stopping bus refuses every event: log a few
};

using paper_actor = caf::stateful_actor<paper_state>;

void publish(paper_actor* self, const actor_context& ctx, event e) {
  const auto type = e.type();
  if (ctx.bus->publish(std::move(e)))
    return;
  if (const auto n = self->state.unpublished.count())
    ctx.log->error("venue event not published: bus full or stopping: type={} occurrences={}", to_string(type), n);
}

void reject(paper_actor* self, const actor_context& ctx, const event& intent, order o, order_reason why) {
  o.status = order_status::rejected;
  o.reason = why;
  ++self->state.rejected;
  publish(self, ctx, intent.child_event(event_type::order_rejected, ctx.source, o, intent.time()));
}

/// The quote in force at time t: the last one stamped at or before t (the oldest kept if all are
/// later). m.quotes is not empty.
const tick& quote_at(const market& m, timestamp t) {
  auto it = std::upper_bound(m.quotes.begin(), m.quotes.end(), t,
                             [](timestamp x, const stamped_quote& q) { return x < q.time; });
  return it == m.quotes.begin() ? it->quote : std::prev(it)->quote;
}

/// Fills an accepted order (ORDER_NEW accepted, a child of the intent) at quote q.
void fill_order(paper_actor* self, const actor_context& ctx, const paper_config& cfg, const event& accepted,
                const tick& q, timestamp ts) {
  const auto& o = accepted.get<order>();
  const auto px = o.sd == side::buy ? q.ask : q.bid;
  const auto fee = fee_for(px * o.qty, cfg.fee_rate);
  ++self->state.filled;
  self->state.fees += fee;
  publish(self, ctx,
          accepted.child_event(event_type::order_filled, ctx.source,
                               fill{o.id, o.client_id, o.instrument, px, o.qty, fee, o.sd}, ts));
}

void on_intent(paper_actor* self, const actor_context& ctx, const paper_config& cfg, const event& intent) {
  const auto* in = intent.get_if<order>();
  if (intent.type() != event_type::order_new || in == nullptr || in->status != order_status::pending) {
    ctx.log->warn("ignored a direct event that is not an order intent: {}", to_string(intent));
    return;
  }
  auto o = *in;
  if (o.type != order_type::market)
    return reject(self, ctx, intent, o, order_reason::venue_rejected);
  auto it = self->state.markets.find(o.instrument);
  if (it == self->state.markets.end())
    return reject(self, ctx, intent, o, order_reason::no_market);
  auto& m = it->second;
  o.id = self->state.next_id++;
  o.status = order_status::accepted;
  ++self->state.accepted;
  auto accepted = intent.child_event(event_type::order_new, ctx.source, o, intent.time());
  publish(self, ctx, accepted);
  if (cfg.latency_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds{cfg.latency_ms}, fill_atom::value, std::move(accepted));
  else if (m.quotes.back().time >= intent.time())
    fill_order(self, ctx, cfg, accepted, quote_at(m, intent.time()), intent.time());
  else
    m.waiting.push_back(std::move(accepted)); // our tick stream lags: fill once it reaches the intent
}

void on_tick(paper_actor* self, const actor_context& ctx, const paper_config& cfg, const event& e) {
  const auto& t = e.get<tick>();
  if (t.bid.is_zero() || t.ask.is_zero())
    return; // a trade-only tick is no quote
  auto& m = self->state.markets[t.instrument];
  const auto now = std::chrono::steady_clock::now();
  m.quotes.push_back(stamped_quote{e.time(), now, t});
  while (m.quotes.size() > max_quotes || (m.quotes.size() > 1 && m.quotes[1].read <= now - keep_quotes))
    m.quotes.pop_front();
  while (!m.waiting.empty() && m.waiting.front().time() <= e.time()) {
    const auto accepted = std::move(m.waiting.front());
    m.waiting.pop_front();
    fill_order(self, ctx, cfg, accepted, quote_at(m, accepted.time()), accepted.time());
  }
}

caf::behavior paper(paper_actor* self, actor_context ctx, paper_config cfg) {
  self->state.log = ctx.log;
  return {
    on_events([self, ctx, cfg](const event& e) { on_tick(self, ctx, cfg, e); }),
    [self, ctx, cfg](const event& intent) { on_intent(self, ctx, cfg, intent); },
    [self, ctx, cfg](fill_atom, const event& accepted) {                        // a delayed fill (latency_ms > 0)
      const auto& m = self->state.markets.at(accepted.get<order>().instrument); // kept once created
      fill_order(self, ctx, cfg, accepted, m.quotes.back().quote,
                 accepted.time() + std::chrono::milliseconds{cfg.latency_ms});
    },
    [](run_atom) {},
    [](halt_atom) {},
  };
}

} // namespace

actor_type_info paper_execution_type() {
  return {[](const params& p) -> spawn_fn {
            paper_config cfg;
            cfg.fee_rate = p.get_in("fee_rate", 0.0001, 0.0, 0.1);
            cfg.latency_ms = p.get_in("latency_ms", std::int64_t{0}, 0, std::int64_t{60'000});
            return [cfg](const actor_context& ctx) {
              auto a = ctx.system->spawn(paper, ctx, cfg);
              // Subscribed before the spawn function returns, not in the actor's init (CAF runs that
              // later on a worker): no event published once the runtime sends run_atom is missed.
              ctx.bus->subscribe(event_type::tick, a);
              return a;
            };
          },
          "simulated venue: fills market orders at the bid/ask in force at the decision time",
          false,
          {"execution"}};
}

} // namespace libra::actors
