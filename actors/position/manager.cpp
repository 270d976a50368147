// position.manager: positions per instrument from fills, average entry price, realized PnL (net
// of fees) and unrealized PnL marked to market at mid. Publishes POSITION_OPENED (flat -> open),
// POSITION_CLOSED (back to flat), POSITION_UPDATED (other fills, and marks at most every
// mark_interval_ms of event time while open), each a child of the event that caused it.
#include "../trading.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <map>

namespace libra::actors {

namespace {

struct book_entry {
  position pos;
  price last_mid;
  timestamp last_mark{};
};

struct manager_state {
  manager_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  manager_state(const manager_state&) = delete;
  manager_state& operator=(const manager_state&) = delete;
  // The summary is logged when the state goes (on exit): attached functors run after CAF
  // destroyed the state, so they must not read it.
  ~manager_state() {
    if (!log)
      return;
    for (const auto& [inst, b] : book)
      log->info("position {} qty {} avg {} realized {} unrealized {}", inst.view(), b.pos.qty.to_string(),
                b.pos.avg_price.to_string(), b.pos.realized_pnl.to_string(), b.pos.unrealized_pnl.to_string());
  }
  std::shared_ptr<spdlog::logger> log;
  std::map<instrument_id, book_entry> book;
};

using manager_actor = caf::stateful_actor<manager_state>;

std::int64_t sign(std::int64_t v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }

/// Applies a fill to a position (exact fixed point; fees reduce realized PnL).
void apply(position& p, const fill& f) {
  const auto q = p.qty.raw();
  const auto s = f.sd == side::buy ? f.qty.raw() : -f.qty.raw();
  if (q == 0 || sign(q) == sign(s)) { // open or add: weighted average entry
    const auto aq = static_cast<libra::detail::int128>(q < 0 ? -q : q);
    const auto as = static_cast<libra::detail::int128>(s < 0 ? -s : s);
    p.avg_price = price::from_raw(static_cast<std::int64_t>((aq * p.avg_price.raw() + as * f.px.raw()) / (aq + as)));
  } else { // reduce, close or flip
    const auto closed = std::min(q < 0 ? -q : q, s < 0 ? -s : s);
    const auto per_unit = f.px - p.avg_price;
    const auto pnl = per_unit * quantity::from_raw(closed);
    p.realized_pnl += sign(q) > 0 ? pnl : -pnl;
    if ((s < 0 ? -s : s) > (q < 0 ? -q : q))
      p.avg_price = f.px; // flipped: the remainder opened at the fill price
  }
  p.realized_pnl -= f.fee;
  p.qty = quantity::from_raw(q + s);
  if (p.qty.is_zero())
    p.avg_price = price{};
}

void mark(position& p, price mid) { p.unrealized_pnl = p.qty.is_zero() ? money{} : (mid - p.avg_price) * p.qty; }

caf::behavior manager(manager_actor* self, actor_context ctx, std::chrono::milliseconds mark_interval) {
  ctx.bus->subscribe(event_type::order_filled, caf::actor{self});
  ctx.bus->subscribe(event_type::tick, caf::actor{self});
  self->state.log = ctx.log;
  return {
    on_events([self, ctx, mark_interval](const event& e) {
      if (const auto* t = e.get_if<tick>()) {
        auto it = self->state.book.find(t->instrument);
        if (it == self->state.book.end())
          return;
        auto& b = it->second;
        b.last_mid = t->mid();
        if (b.pos.qty.is_zero() || e.time() - b.last_mark < mark_interval)
          return;
        mark(b.pos, b.last_mid);
        b.last_mark = e.time();
        (void)ctx.bus->publish(e.child_event(event_type::position_updated, ctx.source, b.pos, e.time()));
        return;
      }
      const auto& f = e.get<fill>();
      auto& b = self->state.book[f.instrument];
      b.pos.instrument = f.instrument;
      const bool was_flat = b.pos.qty.is_zero();
      apply(b.pos, f);
      mark(b.pos, b.last_mid.is_zero() ? f.px : b.last_mid);
      b.last_mark = e.time();
      const auto type = was_flat              ? event_type::position_opened
                        : b.pos.qty.is_zero() ? event_type::position_closed
                                              : event_type::position_updated;
      (void)ctx.bus->publish(e.child_event(type, ctx.source, b.pos, e.time()));
    }),
    [](run_atom) {},
    [](halt_atom) {},
  };
}

} // namespace

actor_type_info position_manager_type() {
  return {[](const params& p) -> spawn_fn {
            const auto interval =
              std::chrono::milliseconds{p.get_in("mark_interval_ms", std::int64_t{1000}, 0, 86'400'000)};
            return [interval](const actor_context& ctx) { return ctx.system->spawn(manager, ctx, interval); };
          },
          "positions, average price, realized/unrealized PnL from fills and ticks", false};
}

} // namespace libra::actors
