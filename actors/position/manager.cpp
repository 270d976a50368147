// position.manager: per instrument the signed quantity, average entry price, realized PnL (net of
// fees) and unrealized PnL marked to market at mid (position_math.hpp). Subscribes ORDER_FILLED
// and TICK. Publishes POSITION_OPENED (flat -> open), POSITION_CLOSED (back to flat) and
// POSITION_UPDATED (any other fill) as children of the fill, and POSITION_UPDATED marks as
// children of a tick at most every mark_interval_ms of event time while a position is open.
// Events carry the time of the event that caused them (event time, not wall time), so a replay
// at full speed marks as often as the live market would. Fill-driven events are reproducible in
// a fast replay and across nodes: a fill is marked at the mid in force at its event time, and a
// fill that overtook its tick (fills travel at ORDERS priority, ticks at MARKET_DATA) waits for
// this actor's tick stream to reach its time, as the venue's orders do (a fill of an instrument
// with no tick yet waits for its first). Marks are not
// reproducible: they depend on how far this actor's tick stream has run ahead of the fills (a
// tick read before a fill of earlier event time is marked against the older position).
#include "manager.hpp"

#include "position_math.hpp"

#include <common/price_history.hpp>
#include <libra/actor.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace libra::actors {

namespace {

struct book_entry {
  position pos;
  price_history<price> mids; // by event time
  timestamp last_mark{};     // event time of the last published POSITION_* event
  std::deque<event> waiting; // fills newer than the last mid read, in arrival order
  std::uint64_t fills = 0;
};

struct manager {
  static constexpr actor_spec spec{
    .name = "position.manager",
    .description = "positions per instrument: average price, realized/unrealized PnL from fills and ticks"};

  explicit manager(const params& p)
    : interval{p.get_in("mark_interval_ms", std::int64_t{1000}, 0, std::int64_t{86'400'000})} {}

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    return {{event_type::order_filled}, {event_type::tick}};
  }

  void on_event(context& ctx, const event& e) {
    if (e.type() == event_type::tick)
      on_tick(ctx, e);
    else
      on_fill(ctx, e);
  }

  void on_tick(context& ctx, const event& e) {
    const auto& t = e.get<tick>();
    auto& b = book[t.instrument];
    b.mids.add(e.time(), t.mid());
    while (!b.waiting.empty() && b.waiting.front().time() <= e.time()) {
      const auto f = std::move(b.waiting.front());
      b.waiting.pop_front();
      apply(ctx, b, f);
    }
    if (b.pos.quantity.is_zero() || e.time() - b.last_mark < interval)
      return;
    const auto unrealized = mark_to_market(b.pos, t.mid());
    if (unrealized == b.pos.unrealized_pnl)
      return; // nothing new to report
    b.pos.unrealized_pnl = unrealized;
    b.last_mark = e.time();
    (void)ctx.publish_child(e, event_type::position_updated, b.pos);
    report(ctx, b);
  }

  void on_fill(context& ctx, const event& e) {
    auto& b = book[e.get<fill>().instrument];
    // It waits for this actor's tick stream to reach its time, the first tick included (the
    // fill's own price as the mark when none had come yet made the first position depend on
    // whether the fill overtook every tick). Behind one that waits, a fill waits too: fills apply
    // in the order they came.
    if (!b.waiting.empty() || b.mids.empty() || b.mids.latest_time() < e.time())
      b.waiting.push_back(e);
    else
      apply(ctx, b, e);
  }

  void apply(context& ctx, book_entry& b, const event& e) {
    const auto& f = e.get<fill>();
    b.pos.instrument = f.instrument;
    ++b.fills;
    const bool was_flat = b.pos.quantity.is_zero();
    apply_fill(b.pos, f);
    // Marked at the mid in force at the fill's event time, not at whichever tick this actor read
    // last (its tick stream runs ahead of the fills): the same on every replay.
    b.pos.unrealized_pnl = mark_to_market(b.pos, b.mids.at(e.time()));
    b.last_mark = e.time();
    const auto type = was_flat
                        ? event_type::position_opened
                        : (b.pos.quantity.is_zero() ? event_type::position_closed : event_type::position_updated);
    (void)ctx.publish_child(e, type, b.pos);
    report(ctx, b);
  }

  /// The position as last published, for /metrics and --stats-json.
  static void report(context& ctx, const book_entry& b) {
    const figure_labels inst{{"instrument", b.pos.instrument.str()}};
    auto& r = ctx.report();
    r.counter("position_fills_total", static_cast<double>(b.fills), inst);
    r.gauge("position_quantity", b.pos.quantity.to_double(), inst);
    r.gauge("pnl_realized", b.pos.realized_pnl.to_double(), inst);
    r.gauge("pnl_unrealized", b.pos.unrealized_pnl.to_double(), inst);
  }

  /// The summary's lines: each position as last published, and the PnL summed over them.
  void summarize(context& ctx) const {
    std::vector<std::pair<std::string, const position*>> held;
    for (const auto& [inst, b] : book)
      if (b.fills != 0)
        held.emplace_back(inst.str(), &b.pos);
    if (held.empty())
      return;
    std::sort(held.begin(), held.end());
    std::vector<std::string> lines;
    money realized;
    money unrealized;
    for (const auto& [inst, p] : held) {
      lines.push_back(fmt::format("position {:<10} qty {} avg {} realized {} unrealized {}", inst,
                                  p->quantity.to_string(), p->average_price.to_string(), p->realized_pnl.to_string(),
                                  p->unrealized_pnl.to_string()));
      realized += p->realized_pnl;
      unrealized += p->unrealized_pnl;
    }
    lines.push_back(fmt::format("PnL                realized {:.2f}, unrealized {:.2f}", realized.to_double(),
                                unrealized.to_double()));
    ctx.report().summary(std::move(lines));
  }

  void on_exit(context& ctx) const {
    summarize(ctx);
    for (const auto& [inst, b] : book)
      if (!b.waiting.empty()) // cannot happen while the venue fills only at quotes this actor reads too
        ctx.log().warn("{} fill(s) of {} never applied: no tick reached their event time", b.waiting.size(),
                       inst.view());
    for (const auto& [inst, b] : book)
      if (b.fills != 0)
        ctx.log().info("position summary: instrument={} fills={} qty={} avg_price={} realized_pnl={} unrealized_pnl={}",
                       inst.view(), b.fills, b.pos.quantity.to_string(), b.pos.average_price.to_string(),
                       b.pos.realized_pnl.to_string(), b.pos.unrealized_pnl.to_string());
  }

  std::chrono::milliseconds interval;
  std::map<instrument_id, book_entry> book;
};

} // namespace

void register_position_actors(actor_registry& registry) { add_actor<manager>(registry); }

} // namespace libra::actors
