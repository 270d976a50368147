// strategy.sma_cross: per instrument, the simple moving averages of the last `fast` and `slow`
// prices (mid of each TICK, or close of each BAR with input: bar). Once both windows are full,
// a cross publishes a SIGNAL as a child of the event that caused it (same trace id, same event
// time): fast crossing above slow -> buy, below -> sell, with the configured strength and the
// price as reference. Equal averages are no cross (the previous side holds). Averages are
// compared exactly on fixed-point sums (libra::price_sum), so no rounding drift can fake a cross.
// Publishes STRATEGY_STARTED on run_atom and STRATEGY_STOPPED on halt_atom.
#include "sma_cross.hpp"

#include <common/market_params.hpp>
#include <libra/actor.hpp>

#include <fmt/format.h>

#include <compare>
#include <deque>
#include <map>

namespace libra::actors {

namespace {

/// The last n prices and their exact sum.
class moving_sum {
public:
  explicit moving_sum(std::size_t n) : n_{n} {}
  void add(price px) {
    values_.push_back(px);
    sum_ += px;
    if (values_.size() > n_) {
      sum_ -= values_.front();
      values_.pop_front();
    }
  }
  [[nodiscard]] bool full() const noexcept { return values_.size() == n_; }
  /// Compares the averages of two full windows exactly.
  friend std::strong_ordering operator<=>(const moving_sum& a, const moving_sum& b) noexcept {
    return compare_means(a.sum_, a.n_, b.sum_, b.n_);
  }

private:
  std::size_t n_;
  std::deque<price> values_;
  price_sum sum_;
};

struct instrument_state {
  moving_sum fast;
  moving_sum slow;
  int side = 0; // sign of fast - slow once both windows are full; 0 before
};

struct sma_cross {
  static constexpr actor_spec spec{.name = "strategy.sma_cross",
                                   .description =
                                     "fast/slow moving-average cross of mid prices (or bar closes) -> SIGNAL"};

  explicit sma_cross(const params& p)
    : fast{static_cast<std::size_t>(p.get_in("fast", std::int64_t{10}, 1, 1'000'000))},
      slow{static_cast<std::size_t>(p.get_in("slow", std::int64_t{30}, 1, 1'000'000))} {
    if (slow <= fast)
      p.fail("slow", fmt::format("slow ({}) must be greater than fast ({})", slow, fast));
    strength = p.get_in("strength", 1.0, 0.0, 1.0);
    bars = p.get_choice("input", "tick", {"tick", "bar"}) == "bar";
    if (p.has("instrument"))
      instrument = require_instrument(p);
  }

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    filter only;
    if (!instrument.empty()) {
      const auto inst = instrument;
      if (bars)
        only = [inst](const event& e) { return e.get<bar>().instrument == inst; };
      else
        only = [inst](const event& e) { return e.get<tick>().instrument == inst; };
    }
    return {{bars ? event_type::bar : event_type::tick, std::move(only)}};
  }

  void on_event(context& ctx, const event& e) {
    if (const auto* t = e.get_if<tick>())
      on_price(ctx, e, t->instrument, t->mid());
    else
      on_price(ctx, e, e.get<bar>().instrument, e.get<bar>().close);
  }

  void on_price(context& ctx, const event& e, const instrument_id& inst, price px) {
    ++prices;
    auto it = by_instrument.find(inst);
    if (it == by_instrument.end())
      it = by_instrument.emplace(inst, instrument_state{moving_sum{fast}, moving_sum{slow}, 0}).first;
    auto& s = it->second;
    s.fast.add(px);
    s.slow.add(px);
    if (!s.slow.full())
      return;
    const auto cmp = s.fast <=> s.slow;
    const int now = std::is_gt(cmp) ? 1 : (std::is_lt(cmp) ? -1 : 0);
    if (now == 0)
      return;
    const int before = s.side;
    s.side = now;
    if (before == 0 || before == now)
      return;
    const auto sd = now > 0 ? side::buy : side::sell;
    if (ctx.publish_child(e, event_type::signal, signal{inst, sd, strength, px}))
      ++(sd == side::buy ? buys : sells);
  }

  void run(context& ctx) {
    (void)ctx.publish(event::create(event_type::strategy_started, ctx.source(), system{ctx.source()},
                                    trace_context::new_root(), ctx.stamp()));
  }
  void halt(context& ctx) {
    (void)ctx.publish(event::create(event_type::strategy_stopped, ctx.source(), system{ctx.source()},
                                    trace_context::new_root(), ctx.stamp()));
  }

  void on_exit(context& ctx) const {
    ctx.log().info("strategy summary: prices={} signals={} (buy={} sell={}) unpublished={}", prices, buys + sells, buys,
                   sells, ctx.unpublished());
  }

  std::size_t fast;
  std::size_t slow;
  double strength = 1;
  bool bars = false;
  instrument_id instrument; // empty: every instrument
  std::map<instrument_id, instrument_state> by_instrument;
  std::uint64_t prices = 0;
  std::uint64_t buys = 0;
  std::uint64_t sells = 0;
};

} // namespace

void register_strategy_actors(actor_registry& registry) { add_actor<sma_cross>(registry); }

} // namespace libra::actors
