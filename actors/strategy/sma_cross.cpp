// strategy.sma_cross: per instrument, the simple moving averages of the last `fast` and `slow`
// prices (mid of each TICK, or close of each BAR with input: bar). Once both windows are full,
// a cross publishes a SIGNAL as a child of the event that caused it (same trace id, same event
// time): fast crossing above slow -> buy, below -> sell, with the configured strength and the
// price as reference. Equal averages are no cross (the previous side holds). Averages are
// compared exactly on fixed-point sums (128-bit), so no rounding drift can fake a cross.
// Publishes STRATEGY_STARTED on run_atom and STRATEGY_STOPPED on halt_atom.
#include "sma_cross.hpp"

#include <libra/log.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <fmt/format.h>

#include <deque>
#include <map>

namespace libra::actors {

namespace {

using wide = libra::detail::int128;

/// Sum of the last n prices (raw units).
class moving_sum {
public:
  explicit moving_sum(std::size_t n) : n_{n} {}
  void add(price px) {
    values_.push_back(px.raw());
    sum_ += px.raw();
    if (values_.size() > n_) {
      sum_ -= values_.front();
      values_.pop_front();
    }
  }
  [[nodiscard]] bool full() const noexcept { return values_.size() == n_; }
  [[nodiscard]] wide sum() const noexcept { return sum_; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

private:
  std::size_t n_;
  std::deque<std::int64_t> values_;
  wide sum_ = 0;
};

struct instrument_state {
  moving_sum fast;
  moving_sum slow;
  int side = 0; // sign of fast - slow once both windows are full; 0 before
};

struct sma_config {
  std::size_t fast = 0;
  std::size_t slow = 0;
  double strength = 1;
  bool bars = false;
  std::string instrument; // empty: every instrument
};

struct sma_state {
  sma_state() = default; // user-declared: see the CAF 0.17 notes (stateful_actor init)
  sma_state(const sma_state&) = delete;
  sma_state& operator=(const sma_state&) = delete;
  ~sma_state() {
    if (log)
      log->info("strategy summary: prices={} signals={} (buy={} sell={}) unpublished={}", prices, buys + sells, buys,
                sells, unpublished.total());
  }

  std::shared_ptr<spdlog::logger> log;
  std::map<instrument_id, instrument_state> by_instrument;
  std::uint64_t prices = 0;
  std::uint64_t buys = 0;
  std::uint64_t sells = 0;
  log_limiter unpublished; // a full or stopping bus refuses every event: log a few
};

using sma_actor = caf::stateful_actor<sma_state>;

void on_price(sma_actor* self, const actor_context& ctx, const sma_config& cfg, const event& e,
              const instrument_id& inst, price px) {
  auto& st = self->state;
  ++st.prices;
  auto it = st.by_instrument.find(inst);
  if (it == st.by_instrument.end())
    it = st.by_instrument.emplace(inst, instrument_state{moving_sum{cfg.fast}, moving_sum{cfg.slow}, 0}).first;
  auto& s = it->second;
  s.fast.add(px);
  s.slow.add(px);
  if (!s.slow.full())
    return;
  // sign(fast_sum / fast_n - slow_sum / slow_n) without division
  const wide diff = s.fast.sum() * static_cast<wide>(cfg.slow) - s.slow.sum() * static_cast<wide>(cfg.fast);
  const int now = diff > 0 ? 1 : (diff < 0 ? -1 : 0);
  if (now == 0)
    return;
  const int before = s.side;
  s.side = now;
  if (before == 0 || before == now)
    return;
  const auto sd = now > 0 ? side::buy : side::sell;
  if (ctx.bus->publish(e.child_event(event_type::signal, ctx.source, signal{inst, sd, cfg.strength, px}, e.time())))
    ++(sd == side::buy ? st.buys : st.sells);
  else if (const auto n = st.unpublished.count())
    ctx.log->warn("signal for {} not published: bus full or stopping: occurrences={}", inst.view(), n);
}

void publish_lifecycle(sma_actor* self, const actor_context& ctx, event_type type) {
  if (ctx.bus->publish(event::create(type, ctx.source, system{ctx.source})))
    return;
  if (const auto n = self->state.unpublished.count())
    ctx.log->warn("{} not published: bus full or stopping: occurrences={}", to_string(type), n);
}

caf::behavior sma_cross(sma_actor* self, actor_context ctx, sma_config cfg) {
  self->state.log = ctx.log;
  return {
    on_events([self, ctx, cfg](const event& e) {
      if (const auto* t = e.get_if<tick>())
        on_price(self, ctx, cfg, e, t->instrument, t->mid());
      else
        on_price(self, ctx, cfg, e, e.get<bar>().instrument, e.get<bar>().close);
    }),
    [self, ctx](run_atom) { publish_lifecycle(self, ctx, event_type::strategy_started); },
    [self, ctx](halt_atom) { publish_lifecycle(self, ctx, event_type::strategy_stopped); },
  };
}

} // namespace

actor_type_info sma_cross_type() {
  return {[](const params& p) -> spawn_fn {
            sma_config cfg;
            cfg.fast = static_cast<std::size_t>(p.get_in("fast", std::int64_t{10}, 1, 1'000'000));
            cfg.slow = static_cast<std::size_t>(p.get_in("slow", std::int64_t{30}, 1, 1'000'000));
            if (cfg.slow <= cfg.fast)
              p.fail("slow", fmt::format("slow ({}) must be greater than fast ({})", cfg.slow, cfg.fast));
            cfg.strength = p.get_in("strength", 1.0, 0.0, 1.0);
            cfg.bars = p.get_choice("input", "tick", {"tick", "bar"}) == "bar";
            if (p.has("instrument"))
              cfg.instrument = p.require_name("instrument", instrument_id::max_length);
            return [cfg](const actor_context& ctx) {
              auto a = ctx.system->spawn(sma_cross, ctx, cfg);
              filter only;
              if (!cfg.instrument.empty()) {
                const instrument_id inst{cfg.instrument};
                if (cfg.bars)
                  only = [inst](const event& e) { return e.get<bar>().instrument == inst; };
                else
                  only = [inst](const event& e) { return e.get<tick>().instrument == inst; };
              }
              // Subscribed before the spawn function returns, not in the actor's init (CAF runs that
              // later on a worker): no event published once the runtime sends run_atom is missed.
              ctx.bus->subscribe(cfg.bars ? event_type::bar : event_type::tick, a, std::move(only));
              return a;
            };
          },
          "fast/slow moving-average cross of mid prices (or bar closes) -> SIGNAL", false};
}

} // namespace libra::actors
