// strategy.sma_cross: fast/slow simple moving averages of the mid price per instrument; a cross
// publishes a SIGNAL as a child of the tick that caused it (same trace id).
#include "../trading.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <fmt/format.h>

#include <deque>
#include <map>

namespace libra::actors {

namespace {

/// Running mean over the last n values.
class moving_average {
public:
  explicit moving_average(std::size_t n) : n_{n} {}
  void add(double v) {
    values_.push_back(v);
    sum_ += v;
    if (values_.size() > n_) {
      sum_ -= values_.front();
      values_.pop_front();
    }
  }
  [[nodiscard]] bool full() const noexcept { return values_.size() == n_; }
  [[nodiscard]] double value() const noexcept { return sum_ / static_cast<double>(values_.size()); }

private:
  std::size_t n_;
  std::deque<double> values_;
  double sum_ = 0;
};

struct instrument_state {
  moving_average fast;
  moving_average slow;
  int last_sign = 0; // sign of fast - slow once both are full
};

struct sma_config {
  std::size_t fast;
  std::size_t slow;
  double strength;
  std::string instrument; // empty: all
};

struct sma_state {
  sma_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  sma_state(const sma_state&) = delete;
  sma_state& operator=(const sma_state&) = delete;
  // The summary is logged when the state goes (on exit): attached functors run after CAF
  // destroyed the state, so they must not read it.
  ~sma_state() {
    if (log)
      log->info("signals published: {}", signals);
  }
  std::shared_ptr<spdlog::logger> log;
  std::map<instrument_id, instrument_state> by_instrument;
  std::uint64_t signals = 0;
};

caf::behavior sma_cross(caf::stateful_actor<sma_state>* self, actor_context ctx, sma_config cfg) {
  filter only;
  if (!cfg.instrument.empty())
    only = [inst = cfg.instrument](const event& e) { return e.get<tick>().instrument == inst; };
  ctx.bus->subscribe(event_type::tick, caf::actor{self}, only);
  self->state.log = ctx.log;
  return {
    on_events([self, ctx, cfg](const event& e) {
      const auto& t = e.get<tick>();
      auto [it, fresh] = self->state.by_instrument.try_emplace(
        t.instrument, instrument_state{moving_average{cfg.fast}, moving_average{cfg.slow}, 0});
      auto& s = it->second;
      const auto mid = t.mid();
      s.fast.add(mid.to_double());
      s.slow.add(mid.to_double());
      if (!s.slow.full())
        return;
      const auto diff = s.fast.value() - s.slow.value();
      const int sign = diff > 0 ? 1 : (diff < 0 ? -1 : 0);
      if (sign != 0 && s.last_sign != 0 && sign != s.last_sign) {
        const auto sd = sign > 0 ? side::buy : side::sell;
        if (ctx.bus->publish(
              e.child_event(event_type::signal, ctx.source, signal{t.instrument, sd, cfg.strength, mid}, e.time())))
          ++self->state.signals;
        else
          ctx.log->warn("signal not published: bus full or stopping");
      }
      if (sign != 0)
        s.last_sign = sign;
    }),
    [ctx](run_atom) {
      (void)ctx.bus->publish(event::create(event_type::strategy_started, ctx.source, system{ctx.source}));
    },
    [ctx](halt_atom) {
      (void)ctx.bus->publish(event::create(event_type::strategy_stopped, ctx.source, system{ctx.source}));
    },
  };
}

} // namespace

actor_type_info sma_cross_type() {
  return {[](const params& p) -> spawn_fn {
            sma_config cfg{};
            cfg.fast = static_cast<std::size_t>(p.get_in("fast", std::int64_t{10}, 1, 1'000'000));
            cfg.slow = static_cast<std::size_t>(p.get_in("slow", std::int64_t{30}, 2, 1'000'000));
            if (cfg.slow <= cfg.fast)
              p.fail("slow", fmt::format("slow ({}) must be greater than fast ({})", cfg.slow, cfg.fast));
            cfg.strength = p.get_in("strength", 1.0, 0.0, 1.0);
            cfg.instrument = p.get<std::string>("instrument", "");
            return [cfg](const actor_context& ctx) { return ctx.system->spawn(sma_cross, ctx, cfg); };
          },
          "fast/slow moving-average cross on mid prices -> SIGNAL", false};
}

} // namespace libra::actors
