#include "producer.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace libra::actors {

namespace {

using next_atom = caf::atom_constant<caf::atom("next")>;
using clock = std::chrono::steady_clock;

constexpr int chunk = 256;                                        // events per message: halt gets in between
constexpr auto full_bus_backoff = std::chrono::microseconds{200}; // retry delay when publish refuses

struct producer_state {
  producer_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  std::optional<publisher> pub;
  std::optional<feed_item> pending; // read, not yet accepted by the bus
  clock::time_point anchor;
  bool running = false;
  bool done = false;
  std::uint64_t published = 0;
  std::uint64_t retries = 0;
  std::uint64_t skipped = 0;
};

using producer_actor = caf::stateful_actor<producer_state>;

void notice(producer_actor* self, const actor_context& ctx, event_type type) {
  if (!self->state.pub->publish(event::create(type, ctx.source, system{ctx.source})))
    ctx.log->warn("{} not published: bus full or stopping", to_string(type));
}

void finish(producer_actor* self, const actor_context& ctx, const std::string& error) {
  auto& st = self->state;
  if (st.done)
    return;
  st.done = true;
  notice(self, ctx, event_type::gateway_disconnected);
  ctx.log->info("gateway done: published={} retries_on_full_bus={} skipped_rows={}{}", st.published, st.retries,
                st.skipped, error.empty() ? "" : " (stopped on error)");
  if (error.empty())
    ctx.finished();
  else
    ctx.failed(error);
}

caf::behavior producer(producer_actor* self, actor_context ctx, std::shared_ptr<feed> f, producer_options opts) {
  self->state.pub.emplace(ctx.bus->make_publisher());
  return {
    [self, ctx](run_atom) {
      auto& st = self->state;
      if (st.running || st.done)
        return;
      st.running = true;
      st.anchor = clock::now();
      notice(self, ctx, event_type::gateway_connected);
      self->send(self, next_atom::value);
    },
    [self, ctx, f, opts](next_atom) {
      auto& st = self->state;
      if (st.done)
        return;
      for (int i = 0; i < chunk; ++i) {
        if (!st.pending) {
          try {
            st.pending = f->next();
          } catch (const bad_row& ex) {
            if (opts.skip_bad_rows) {
              ++st.skipped;
              if (st.skipped <= 10 || (st.skipped & (st.skipped - 1)) == 0)
                ctx.log->warn("skipped bad row ({} so far): {}", st.skipped, ex.what());
              continue;
            }
            ctx.log->error("bad row: {}", ex.what());
            finish(self, ctx, ex.what());
            return;
          }
          if (!st.pending) {
            finish(self, ctx, {});
            return;
          }
        }
        if (st.pending->due_ns > 0) {
          const auto due = st.anchor + std::chrono::nanoseconds{st.pending->due_ns};
          const auto now = clock::now();
          if (due > now) {
            self->delayed_send(self, due - now, next_atom::value);
            return;
          }
        }
        if (!st.pub->publish(st.pending->ev)) {
          ++st.retries; // full: back-pressure, try again shortly (never drop)
          self->delayed_send(self, full_bus_backoff, next_atom::value);
          return;
        }
        ++st.published;
        st.pending.reset();
      }
      self->send(self, next_atom::value);
    },
    [self, ctx](halt_atom) { finish(self, ctx, {}); },
  };
}

} // namespace

caf::actor spawn_producer(const actor_context& ctx, std::shared_ptr<feed> f, producer_options opts) {
  return ctx.system->spawn(producer, ctx, std::move(f), opts);
}

} // namespace libra::actors
