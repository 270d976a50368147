// execution.paper: a simulated venue. Keeps the recent quotes per instrument from TICKs. An
// approved intent (a libra::event of type ORDER_NEW, status pending, sent directly by risk) is
// rejected by the venue (ORDER_REJECTED, reason no_market) when the instrument has no quote (see
// quote_wait_ms below);
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
// Before the venue has read any quote of its instrument, an intent waits for the first one (up to
// quote_wait_ms of wall time, then no_market): the intent and the ticks come by different paths
// (risk sends it directly; in a distributed topology over another link), and the first intent of
// an instrument can overtake every tick of it that caused it, even when other instruments' ticks
// have come.
// With latency_ms > 0 the fill happens that many milliseconds of wall time later (delayed_send),
// at the latest quote of that moment, stamped intent time + latency: a live-trading model, not
// reproducible in a fast replay.
#include "paper.hpp"

#include <common/price_history.hpp>
#include <libra/actor.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <string>

namespace libra::actors {

money fee_for(money notional, double rate) noexcept { return apply_rate(notional, rate); }

namespace {

using fill_atom = caf::atom_constant<caf::atom("fill")>;
using quote_wait_atom = caf::atom_constant<caf::atom("quotewait")>;

struct market {
  price_history<tick> quotes; // the venue's quotes, by event time
  std::deque<event> waiting;  // accepted orders, newer than the last quote
};

struct paper {
  static constexpr actor_spec spec{
    .name = "execution.paper",
    .description = "simulated venue: fills market orders at the bid/ask in force at the decision time",
    .roles = "execution"};

  explicit paper(const params& p)
    : fee_rate{p.get_in("fee_rate", 0.0001, 0.0, 0.1)}, latency_ms{p.get_in("latency_ms", std::int64_t{0}, 0,
                                                                            std::int64_t{60'000})},
      quote_wait_ms{p.get_in("quote_wait_ms", std::int64_t{2'000}, 0, std::int64_t{600'000})} {}

  [[nodiscard]] std::vector<subscription> subscriptions() const { return {{event_type::tick}}; }

  void on_event(context& ctx, const event& e) {
    const auto& t = e.get<tick>();
    if (!t.bid.is_zero() && !t.ask.is_zero()) { // a trade-only tick is no quote
      auto [it, first] = markets.try_emplace(t.instrument);
      auto& m = it->second;
      m.quotes.add(e.time(), t);
      while (!m.waiting.empty() && m.waiting.front().time() <= e.time()) {
        const auto acc = std::move(m.waiting.front());
        m.waiting.pop_front();
        fill_order(ctx, acc, m.quotes.at(acc.time()), acc.time());
      }
      if (first) // only an instrument without a market has intents waiting for its quote
        release_first_quote(ctx, t.instrument);
    }
  }

  /// The first quote of an instrument came: decides its intents that waited for it, oldest first.
  void release_first_quote(context& ctx, const instrument_id& instrument) {
    if (before_quote.empty())
      return;
    std::deque<event> rest;
    std::deque<event> ready;
    for (auto& intent : before_quote)
      (intent.get<order>().instrument == instrument ? ready : rest).push_back(std::move(intent));
    before_quote = std::move(rest);
    for (const auto& intent : ready)
      decide(ctx, intent);
  }

  /// An approved intent, sent by risk.
  void on_direct(context& ctx, const event& intent) {
    const auto* in = intent.get_if<order>();
    if (intent.type() != event_type::order_new || in == nullptr || in->status != order_status::pending) {
      ctx.log().warn("ignored a direct event that is not an order intent: {}", to_string(intent));
      return;
    }
    if (quote_wait_ms > 0 && !markets.contains(in->instrument)) {
      before_quote.push_back(intent);
      ctx.self()->delayed_send(ctx.self(), std::chrono::milliseconds{quote_wait_ms}, quote_wait_atom::value,
                               intent.span_id().value);
      return;
    }
    decide(ctx, intent);
  }

  /// Accepts (and fills, or queues for its quote) or rejects a valid intent.
  void decide(context& ctx, const event& intent) {
    auto o = intent.get<order>();
    if (o.type != order_type::market)
      return reject(ctx, intent, o, order_reason::venue_rejected);
    auto it = markets.find(o.instrument);
    if (it == markets.end())
      return reject(ctx, intent, o, order_reason::no_market);
    auto& m = it->second;
    o.id = order_id{next_id++};
    o.status = order_status::accepted;
    ctx.report().counter("orders_accepted_total", static_cast<double>(++accepted));
    auto acc = intent.child_event(event_type::order_new, ctx.source(), o, intent.time());
    (void)ctx.publish(acc);
    if (latency_ms > 0)
      ctx.self()->delayed_send(ctx.self(), std::chrono::milliseconds{latency_ms}, fill_atom::value, std::move(acc));
    else if (m.quotes.latest_time() >= intent.time())
      fill_order(ctx, acc, m.quotes.at(intent.time()), intent.time());
    else
      m.waiting.push_back(std::move(acc)); // our tick stream lags: fill once it reaches the intent
  }

  /// A delayed fill (latency_ms > 0), at the latest quote.
  caf::message_handler handlers(context& ctx) {
    return {[this, &ctx](fill_atom, const event& acc) {
              const auto& m = markets.at(acc.get<order>().instrument); // kept once created
              fill_order(ctx, acc, m.quotes.latest(), acc.time() + std::chrono::milliseconds{latency_ms});
            },
            [this, &ctx](quote_wait_atom, std::uint64_t span) {
              // Its wait is over and no quote of its instrument came: decided now (no_market),
              // unless a quote released it already.
              auto it = std::find_if(before_quote.begin(), before_quote.end(),
                                     [span](const event& e) { return e.span_id().value == span; });
              if (it != before_quote.end()) {
                const auto intent = std::move(*it);
                before_quote.erase(it);
                decide(ctx, intent);
              }
            }};
  }

  void reject(context& ctx, const event& intent, order o, order_reason why) {
    o.status = order_status::rejected;
    o.reason = why;
    ctx.report().counter("order_rejections_total", static_cast<double>(++rejected_by[why]),
                         {{"reason", std::string{to_string(why)}}});
    (void)ctx.publish_child(intent, event_type::order_rejected, o);
  }

  /// Fills an accepted order (ORDER_NEW accepted, a child of the intent) at quote q.
  void fill_order(context& ctx, const event& acc, const tick& q, timestamp ts) {
    const auto& o = acc.get<order>();
    const auto px = o.side == side::buy ? q.ask : q.bid;
    const auto fee = apply_rate(px * o.quantity, fee_rate);
    ++filled;
    fees += fee;
    ctx.report().counter("orders_filled_total", static_cast<double>(filled));
    ctx.report().counter("fees_total", fees.to_double());
    (void)ctx.publish(acc.child_event(event_type::order_filled, ctx.source(),
                                      fill{o.id, o.client_id, o.instrument, px, o.quantity, fee, o.side}, ts));
  }

  void on_exit(context& ctx) const {
    std::string reasons;
    std::uint64_t rejected = 0;
    for (const auto& [why, n] : rejected_by) {
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", to_string(why), n);
      rejected += n;
    }
    ctx.report().summary({fmt::format(
      "{:<18} accepted {}, filled {}, rejected {}{}, fees {}{}", ctx.name(), accepted, filled, rejected,
      reasons.empty() ? "" : " (" + reasons + ")", fees.to_string(),
      before_quote.empty() ? std::string{}
                           : fmt::format(", {} intents unanswered (no quote came)", before_quote.size()))});
    ctx.log().info("venue summary: accepted={} filled={} rejected={} fees={} unpublished={}", accepted, filled,
                   rejected, fees.to_string(), ctx.unpublished());
  }

  double fee_rate;
  std::int64_t latency_ms;
  std::int64_t quote_wait_ms;
  std::deque<event> before_quote; // intents that came before any quote of their instrument, oldest first
  std::map<instrument_id, market> markets;
  std::uint64_t next_id = 1;
  std::uint64_t accepted = 0;
  std::uint64_t filled = 0;
  std::map<order_reason, std::uint64_t> rejected_by;
  money fees;
};

} // namespace

void register_execution_actors(actor_registry& registry) { add_actor<paper>(registry); }

} // namespace libra::actors
