#include "producer.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <fmt/format.h>

#include <chrono>
#include <exception>

namespace libra::actors {

namespace {

using next_atom = caf::atom_constant<caf::atom("next")>;   // publish the next chunk
using close_atom = caf::atom_constant<caf::atom("close")>; // retry GATEWAY_DISCONNECTED
using steady = std::chrono::steady_clock;

// When the bus refuses an event (full for this priority, or stopping), try again after this.
constexpr auto full_bus_backoff = std::chrono::microseconds{200};
// GATEWAY_DISCONNECTED is retried this often, this long apart, before finishing without it (the
// bus stays refusing when it is stopping).
constexpr int close_attempts = 1000;
constexpr auto close_backoff = std::chrono::milliseconds{1};
// Skipped rows are logged one by one up to this many, then at each power of two.
constexpr std::uint64_t skip_log_burst = 10;

enum class phase { idle, running, closing, done };

struct producer_state {
  producer_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  std::optional<publisher> pub;
  std::optional<feed_item> pending; // read, not yet accepted by the bus
  bool pending_from_feed = false;   // else it is GATEWAY_CONNECTED
  steady::time_point anchor;        // run_atom: due times count from here
  phase ph = phase::idle;
  std::string error;      // why the feed failed; empty when it ended or was halted
  std::string end_reason; // for the summary
  int close_tries = 0;
  std::uint64_t rows = 0;      // events the feed produced
  std::uint64_t published = 0; // of those, accepted by the bus
  std::uint64_t skipped = 0;   // bad rows skipped
  std::uint64_t retries = 0;   // refusals by the bus, each retried
};

using producer_actor = caf::stateful_actor<producer_state>;

void settle(producer_actor* self, const actor_context& ctx) {
  auto& st = self->state;
  st.ph = phase::done;
  st.pending.reset();
  ctx.log->info("gateway stopped ({}): rows={} published={} skipped={} retries={}", st.end_reason, st.rows,
                st.published, st.skipped, st.retries);
  if (st.error.empty()) {
    if (ctx.finished)
      ctx.finished();
  } else if (ctx.failed) {
    ctx.failed(st.error);
  }
}

void try_close(producer_actor* self, const actor_context& ctx) {
  auto& st = self->state;
  if (st.pub->publish(event::create(event_type::gateway_disconnected, ctx.source, system{ctx.source}))) {
    settle(self, ctx);
  } else if (++st.close_tries >= close_attempts) {
    ctx.log->error("GATEWAY_DISCONNECTED not published: the bus refused it {} times", st.close_tries);
    settle(self, ctx);
  } else {
    ++st.retries;
    self->delayed_send(self, close_backoff, close_atom::value);
  }
}

// Stops publishing: announces the disconnect, then reports finished (error empty) or failed.
void close(producer_actor* self, const actor_context& ctx, std::string reason, std::string error = {}) {
  auto& st = self->state;
  if (st.ph != phase::running)
    return;
  st.ph = phase::closing;
  st.end_reason = std::move(reason);
  st.error = std::move(error);
  if (st.pending && st.pending_from_feed)
    ctx.log->info("stopped with 1 row read but not published");
  st.pending.reset();
  try_close(self, ctx);
}

// Fills st.pending from the feed; false when the producer closed instead (end, failure).
bool fetch(producer_actor* self, const actor_context& ctx, feed& f, bad_row_policy on_bad_row) {
  auto& st = self->state;
  for (;;) {
    try {
      st.pending = f.next();
    } catch (const bad_row& ex) {
      if (on_bad_row == bad_row_policy::fail) {
        ctx.log->error("bad row: {}", ex.what());
        close(self, ctx, "bad row", ex.what());
        return false;
      }
      ++st.skipped;
      if (st.skipped <= skip_log_burst || (st.skipped & (st.skipped - 1)) == 0)
        ctx.log->warn("skipped bad row ({} so far): {}", st.skipped, ex.what());
      continue;
    } catch (const std::exception& ex) {
      ctx.log->error("feed failed: {}", ex.what());
      close(self, ctx, "feed failed", ex.what());
      return false;
    }
    if (!st.pending) {
      close(self, ctx, "end of data");
      return false;
    }
    st.pending_from_feed = true;
    ++st.rows;
    return true;
  }
}

caf::behavior producer(producer_actor* self, actor_context ctx, std::shared_ptr<feed> f, bad_row_policy on_bad_row) {
  self->state.pub.emplace(ctx.bus->make_publisher());
  // A handler that throws ends the actor; the run must still hear about it.
  self->set_exception_handler([ctx](caf::scheduled_actor* ptr, std::exception_ptr& ep) -> caf::error {
    auto* me = static_cast<producer_actor*>(ptr);
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    ctx.log->error("gateway crashed: {}", what);
    if (me->state.ph != phase::done) {
      me->state.ph = phase::done;
      if (ctx.failed)
        ctx.failed("gateway crashed: " + what);
    }
    return caf::sec::runtime_error;
  });
  return {
    [self, ctx](run_atom) {
      auto& st = self->state;
      if (st.ph != phase::idle)
        return;
      st.ph = phase::running;
      st.anchor = steady::now();
      // Goes out first, through the same retry path as the events.
      st.pending = feed_item{event::create(event_type::gateway_connected, ctx.source, system{ctx.source}), 0};
      st.pending_from_feed = false;
      self->send(self, next_atom::value);
    },
    [self, ctx, f, on_bad_row](next_atom) {
      auto& st = self->state;
      if (st.ph != phase::running)
        return;
      for (int i = 0; i < producer_chunk; ++i) {
        if (!st.pending && !fetch(self, ctx, *f, on_bad_row))
          return;
        if (st.pending->due_ns > 0) {
          const auto due = st.anchor + std::chrono::nanoseconds{st.pending->due_ns};
          if (const auto now = steady::now(); due > now) {
            self->delayed_send(self, due - now, next_atom::value);
            return;
          }
        }
        if (!st.pub->publish(st.pending->ev)) {
          ++st.retries; // back-pressure: the same event again shortly, never dropped
          self->delayed_send(self, full_bus_backoff, next_atom::value);
          return;
        }
        if (st.pending_from_feed)
          ++st.published;
        st.pending.reset();
      }
      self->send(self, next_atom::value);
    },
    [self, ctx](close_atom) {
      if (self->state.ph == phase::closing)
        try_close(self, ctx);
    },
    [self, ctx](halt_atom) {
      auto& st = self->state;
      if (st.ph == phase::idle) { // never started: nothing to announce
        st.end_reason = "halted before run";
        settle(self, ctx);
      } else {
        close(self, ctx, "halted");
      }
    },
  };
}

} // namespace

caf::actor spawn_producer(const actor_context& ctx, std::shared_ptr<feed> f, bad_row_policy on_bad_row) {
  // The directory holds every actor's handle: an actor keeping it would keep itself alive.
  auto own = ctx;
  own.directory.reset();
  return ctx.system->spawn(producer, std::move(own), std::move(f), on_bad_row);
}

} // namespace libra::actors
