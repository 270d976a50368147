// example.tick_counter: counts the ticks of one instrument and publishes a SIGNAL every `every`
// ticks. Built out of tree against the installed SDK and loaded by libra-runtime as a plugin.
#include <libra/component.hpp>

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <memory>

namespace {

struct tick_counter_state {
  tick_counter_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  tick_counter_state(const tick_counter_state&) = delete;
  tick_counter_state& operator=(const tick_counter_state&) = delete;
  // Logged when the state goes (CAF destroys it on exit, before attached functors run).
  ~tick_counter_state() {
    if (log)
      log->info("ticks seen: {}", seen);
  }
  std::shared_ptr<spdlog::logger> log;
  std::uint64_t seen = 0;
};

caf::behavior tick_counter(caf::stateful_actor<tick_counter_state>* self, libra::actor_context ctx,
                           std::int64_t every) {
  self->state.log = ctx.log;
  return {
    libra::on_events([self, ctx, every](const libra::event& e) {
      if (++self->state.seen % static_cast<std::uint64_t>(every) != 0)
        return;
      const auto& t = e.get<libra::tick>();
      (void)ctx.bus->publish(e.child_event(libra::event_type::signal, ctx.source,
                                           libra::signal{t.instrument, libra::side::none, 0.0, t.mid()}, e.time()));
    }),
    [](libra::run_atom) {},
    [](libra::halt_atom) {},
  };
}

} // namespace

LIBRA_PLUGIN(registry) {
  registry.add("example.tick_counter", {[](const libra::params& p) -> libra::spawn_fn {
                                          const auto every = p.get_in("every", std::int64_t{100}, 1, 1'000'000'000);
                                          return [every](const libra::actor_context& ctx) {
                                            auto a = ctx.system->spawn(tick_counter, ctx, every);
                                            // Here, not in the actor's init (CAF runs that later, on a
                                            // worker): subscribed before the runtime starts the
                                            // gateways, so no tick is missed.
                                            ctx.bus->subscribe(libra::event_type::tick, a);
                                            return a;
                                          };
                                        },
                                        "counts ticks; a SIGNAL every `every` ticks", false});
}
