// risk.engine: turns each SIGNAL into an order intent (market order of order_quantity at the
// signal's reference price) and runs the pre-trade checks, in this order:
//   circuit_breaker     trading was halted by the drawdown rule
//   max_order_quantity  qty > limit
//   max_notional        qty x reference price > limit
//   max_position        |position + in-flight intents + signed qty| > limit (per instrument)
//   rate_limit          approved intents in the last second of EVENT time (the signals'
//                       timestamps, so a replay at full speed behaves as the live market would)
//                       already at max_orders_per_second
// A denied intent becomes ORDER_REJECTED (status rejected, reason set) and RISK_LIMIT_BREACH,
// both children of the signal (same trace id); nothing reaches the venue. An approved intent
// (ORDER_NEW, status pending, child of the signal) is sent directly to the execution actor.
//
// Positions: POSITION_OPENED/UPDATED/CLOSED give the filled quantity and PnL per instrument. An
// approved intent is "in flight" until the position event of its fill arrives (it carries the
// intent's trace id) or the venue rejects it (ORDER_REJECTED, same trace id), so a burst of
// signals cannot overshoot max_position before the fills come back.
//
// Drawdown (post-trade, on every position event):
//   equity   = capital + sum over instruments of (realized + unrealized PnL)
//   peak     = max(capital, highest equity seen)
//   drawdown = (peak - equity) / capital      (a fraction of capital, not of peak)
// drawdown >= drawdown_warning publishes DRAWDOWN_WARNING once per drawdown episode (re-armed
// only when equity makes a new peak, so equity hovering at the level does not warn again and
// again); drawdown >= drawdown_halt publishes
// CIRCUIT_BREAKER once, and from then on every intent is denied (reason circuit_breaker) for the
// rest of the run. Risk events go out at RISK priority (the bus derives it from the type).
// On exit the engine logs approved/denied counts per reason and the largest drawdown.
#include "engine.hpp"

#include <libra/actor.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace libra::actors {

namespace {

/// An approved intent whose fill has not reached the positions yet.
struct in_flight {
  instrument_id instrument;
  quantity signed_qty;
};

constexpr std::size_t reason_count = static_cast<std::size_t>(order_reason::user_cancelled) + 1;

quantity abs_of(quantity q) { return q.raw() < 0 ? -q : q; }

struct engine {
  static constexpr actor_spec spec{.name = "risk.engine",
                                   .description =
                                     "pre-trade limits on intents from signals; drawdown warning and circuit breaker"};

  explicit engine(const params& p) : execution{p.require_actor("execution", "execution")} {
    // Fixed-point values hold up to ~9.2e9 units: limits default to "none" within that.
    constexpr double most = 9e9;
    order_quantity = quantity::from_double(p.get_in("order_quantity", 1.0, 1e-9, most));
    max_order_quantity = quantity::from_double(p.get_in("max_order_quantity", most, 0.0, most));
    max_notional = money::from_double(p.get_in("max_notional", most, 0.0, most));
    max_position = quantity::from_double(p.get_in("max_position", most, 0.0, most));
    max_orders_per_second = p.get_in("max_orders_per_second", std::int64_t{1000}, 1, 1'000'000'000);
    capital = money::from_double(p.get_in("capital", 1e6, 1.0, most));
    drawdown_warning = p.get_in("drawdown_warning", 0.05, 0.0, 1.0);
    drawdown_halt = p.get_in("drawdown_halt", 0.10, 0.0, 1.0);
    if (drawdown_halt < drawdown_warning)
      p.fail("drawdown_halt", fmt::format("drawdown_halt ({}) must not be below drawdown_warning ({})", drawdown_halt,
                                          drawdown_warning));
    peak_equity = capital;
  }

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    return {{event_type::signal},
            {event_type::order_rejected},
            {event_type::position_opened},
            {event_type::position_updated},
            {event_type::position_closed}};
  }

  void on_event(context& ctx, const event& e) {
    switch (e.type()) {
      case event_type::signal:
        return on_signal(ctx, e);
      case event_type::order_rejected: {
        const auto& o = e.get<order>();
        if (o.reason == order_reason::no_market || o.reason == order_reason::venue_rejected)
          settle(e.trace_id(), o.instrument);
        return;
      }
      default: { // POSITION_OPENED / UPDATED / CLOSED
        const auto& p = e.get<position>();
        auto& known = positions[p.instrument];
        // A fill changes the quantity; a mark-to-market update (a child of a tick, which may be
        // the tick an in-flight intent came from: same trace id) does not.
        if (p.quantity != known.quantity || e.type() != event_type::position_updated)
          settle(e.trace_id(), p.instrument);
        known = p;
        return check_drawdown(ctx, e);
      }
    }
  }

  /// A denial: ORDER_REJECTED and RISK_LIMIT_BREACH, both children of the signal.
  void deny(context& ctx, const event& sig, order o, order_reason why, risk_rule rule, double limit, double value,
            const std::string& what) {
    o.status = order_status::rejected;
    o.reason = why;
    const auto n = ++denied[static_cast<std::size_t>(why)];
    ctx.report().counter("order_rejections_total", static_cast<double>(n), {{"reason", std::string{to_string(why)}}});
    (void)ctx.publish_child(sig, event_type::order_rejected, o);
    auto msg = std::make_shared<const std::string>(fmt::format("order {} {} {} {} denied: {}",
                                                               libra::value(o.client_id), to_string(o.side),
                                                               o.quantity.to_string(), o.instrument.view(), what));
    (void)ctx.publish_child(sig, event_type::risk_limit_breach, risk{rule, o.instrument, limit, value, std::move(msg)});
  }

  void on_signal(context& ctx, const event& e) {
    ctx.report().counter("signals_total", static_cast<double>(++signals));
    const auto& s = e.get<signal>();
    order o;
    o.client_id = client_order_id{next_client_id++};
    o.instrument = s.instrument;
    o.quantity = order_quantity;
    o.price = s.reference;
    o.side = s.side;
    o.type = order_type::market;
    o.status = order_status::pending;
    if (halted)
      return deny(ctx, e, o, order_reason::circuit_breaker, risk_rule::circuit_breaker, drawdown_halt, max_drawdown,
                  "trading halted by the circuit breaker");
    if (o.quantity > max_order_quantity)
      return deny(
        ctx, e, o, order_reason::max_order_quantity, risk_rule::max_order_quantity, max_order_quantity.to_double(),
        o.quantity.to_double(),
        fmt::format("quantity {} > max_order_quantity {}", o.quantity.to_string(), max_order_quantity.to_string()));
    // Exact in fixed point, unless the product leaves its range (then it is above any limit).
    const bool huge = o.price.to_double() * o.quantity.to_double() > 9e9;
    const auto notional = huge ? money::from_raw(INT64_MAX) : o.price * o.quantity;
    if (huge || notional > max_notional)
      return deny(ctx, e, o, order_reason::max_notional, risk_rule::max_notional, max_notional.to_double(),
                  notional.to_double(),
                  fmt::format("notional {} > max_notional {}", notional.to_string(), max_notional.to_string()));
    auto exposure = positions.count(o.instrument) != 0 ? positions[o.instrument].quantity : quantity{};
    for (const auto& [trace, f] : in_flight_)
      if (f.instrument == o.instrument)
        exposure += f.signed_qty;
    const auto signed_qty = o.side == side::sell ? -o.quantity : o.quantity;
    const auto after = abs_of(exposure + signed_qty);
    if (after > max_position)
      return deny(ctx, e, o, order_reason::max_position, risk_rule::max_position, max_position.to_double(),
                  after.to_double(),
                  fmt::format("position after the order {} (now {} incl. in flight) > max_position {}",
                              after.to_string(), exposure.to_string(), max_position.to_string()));
    // Event time (the signal's), not the wall clock: a replay at full speed limits as live did.
    while (!recent.empty() && ctx.now() - recent.front() >= std::chrono::seconds{1})
      recent.pop_front();
    const auto rate = static_cast<std::int64_t>(recent.size()) + 1;
    if (rate > max_orders_per_second)
      return deny(ctx, e, o, order_reason::rate_limit, risk_rule::rate_limit,
                  static_cast<double>(max_orders_per_second), static_cast<double>(rate),
                  fmt::format("{} orders in 1 s > max_orders_per_second {}", rate, max_orders_per_second));
    if (!venue)
      venue = ctx.find(execution);
    if (!venue) {
      if (unsent++ == 0)
        ctx.log().error("no execution actor named '{}': approved intents are dropped", execution);
      return;
    }
    ctx.report().counter("orders_approved_total", static_cast<double>(++approved));
    recent.push_back(ctx.now());
    in_flight_.emplace(e.trace_id(), in_flight{o.instrument, signed_qty});
    ctx.self()->send(venue, e.child_event(event_type::order_new, ctx.source(), o, e.time()));
  }

  /// Removes one in-flight intent of this trace and instrument (its fill is now in the position,
  /// or the venue rejected it).
  void settle(const trace_id& trace, const instrument_id& inst) {
    auto [lo, hi] = in_flight_.equal_range(trace);
    for (auto it = lo; it != hi; ++it)
      if (it->second.instrument == inst) {
        in_flight_.erase(it);
        return;
      }
  }

  void check_drawdown(context& ctx, const event& e) {
    money equity = capital;
    for (const auto& [inst, pos] : positions)
      equity += pos.realized_pnl + pos.unrealized_pnl;
    peak_equity = std::max(peak_equity, equity);
    const double drawdown = (peak_equity - equity).to_double() / capital.to_double();
    max_drawdown = std::max(max_drawdown, drawdown);
    ctx.report().gauge("drawdown_ratio", drawdown);
    auto notice = [&](event_type type, risk_rule rule, double limit, const char* what) {
      auto msg = std::make_shared<const std::string>(
        fmt::format("{}: drawdown {:.4f}% of capital >= {:.4f}% (equity {}, peak {}, capital {})", what, drawdown * 100,
                    limit * 100, equity.to_string(), peak_equity.to_string(), capital.to_string()));
      ctx.log().warn("{}", *msg);
      (void)ctx.publish_child(e, type, risk{rule, {}, limit, drawdown, std::move(msg)});
    };
    if (drawdown >= drawdown_warning && !warned) {
      warned = true;
      notice(event_type::drawdown_warning, risk_rule::drawdown, drawdown_warning, "drawdown warning");
    } else if (equity >= peak_equity) {
      warned = false; // re-armed at a new peak: equity hovering at the level warns only once
    }
    if (drawdown >= drawdown_halt && !halted) {
      halted = true;
      ctx.report().gauge("trading_halted", 1);
      notice(event_type::circuit_breaker, risk_rule::circuit_breaker, drawdown_halt, "circuit breaker, trading halted");
    }
  }

  void on_exit(context& ctx) const {
    std::string by_reason;
    std::string reasons; // for the summary: "max_position 3, rate_limit 1"
    std::uint64_t denied_total = 0;
    for (std::size_t i = 0; i < reason_count; ++i)
      if (denied[i] != 0) {
        by_reason += fmt::format(" {}={}", to_string(static_cast<order_reason>(i)), denied[i]);
        reasons +=
          fmt::format("{}{} {}", reasons.empty() ? "" : ", ", to_string(static_cast<order_reason>(i)), denied[i]);
        denied_total += denied[i];
      }
    ctx.report().summary(
      {fmt::format("{:<18} signals {}, approved {}, rejected {}{}, max drawdown {:.2f}%{}", ctx.name(), signals,
                   approved, denied_total, reasons.empty() ? "" : " (" + reasons + ")", max_drawdown * 100,
                   halted ? ", circuit breaker tripped" : "")});
    ctx.log().info("risk summary: signals={} approved={} denied={}{} unsent={} unpublished={} max_drawdown={:.6f} "
                   "circuit_breaker={}",
                   signals, approved, denied_total, by_reason, unsent, ctx.unpublished(), max_drawdown,
                   halted ? "tripped" : "no");
  }

  // configuration (from params)
  std::string execution;
  quantity order_quantity;
  quantity max_order_quantity;
  money max_notional;
  quantity max_position;
  std::int64_t max_orders_per_second = 0;
  money capital;
  double drawdown_warning = 0;
  double drawdown_halt = 0;
  // state
  caf::actor venue;
  std::uint64_t next_client_id = 1;
  std::map<instrument_id, position> positions;   // last reported per instrument
  std::multimap<trace_id, in_flight> in_flight_; // by the trace id of the intent
  std::deque<timestamp> recent;                  // event times of approved intents, last second
  money peak_equity;
  double max_drawdown = 0;
  bool warned = false;
  bool halted = false;
  std::uint64_t signals = 0;
  std::uint64_t approved = 0;
  std::uint64_t unsent = 0; // approved but no execution actor to send to
  std::array<std::uint64_t, reason_count> denied{};
};

} // namespace

void register_risk_actors(actor_registry& registry) { add_actor<engine>(registry); }

} // namespace libra::actors
