// Writing an actor in a few lines: the author declares what the actor type is (actor_spec), reads
// its params in a constructor (the factory: validation only) and writes handlers; actor_type<T>()
// does the rest (spawns a CAF stateful actor holding a T, subscribes it before it runs, gives run
// and halt no-op defaults). Handlers run on the actor, one at a time: a T needs no locks.
// Walkthrough: docs/writing-an-actor.md.
#pragma once

#include <libra/actor_registry.hpp>
#include <libra/log.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/message_handler.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace libra {

/// What an actor type is, as a T declares it: `static constexpr libra::actor_spec spec{...};`.
struct actor_spec {
  std::string_view name;        ///< type name in topologies, e.g. "strategy.sma_cross"
  std::string_view description; ///< one line: what it does (actor_type_info::description)
  bool producer = false;        ///< publishes on its own (a gateway): must call context::finished()
  std::string_view roles = {};  ///< space-separated roles it can play (actor_type_info::roles)
  bool detached = false;        ///< runs on its own thread (blocking I/O must not stall a worker)
};

/// One subscription of an actor: an event type and an optional filter (run on the broker: cheap,
/// no shared state).
struct subscription {
  event_type type;
  filter only = {};
};

class context;

namespace detail {
template <class T>
struct actor_state;

/// True when sys runs on CAF's test coordinator (libra::testing, libra-runtime --deterministic):
/// there, an actor declared detached runs on the coordinator too, as every other one, so that the
/// caller drives it.
[[nodiscard]] inline bool runs_on_test_coordinator(caf::actor_system& sys) noexcept {
  return dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler()) != nullptr;
}
} // namespace detail

/// What a handler gets: the bus, the actor's names, its logger, the event-time clock and the
/// runtime's callbacks. Valid on the actor only, for as long as the actor runs.
class context {
public:
  context(caf::event_based_actor* self, actor_context runtime)
    : self_{self}, rt_{std::move(runtime)}, deterministic_{detail::runs_on_test_coordinator(self->home_system())} {}

  [[nodiscard]] libra::bus& bus() const noexcept { return *rt_.bus; }
  [[nodiscard]] const std::string& name() const noexcept { return rt_.name; }
  [[nodiscard]] const source_id& source() const noexcept { return rt_.source; }
  [[nodiscard]] spdlog::logger& log() const noexcept { return *rt_.log; }
  /// The CAF actor (to send, delayed_send, monitor); its behavior belongs to actor_type<T>.
  [[nodiscard]] caf::event_based_actor* self() const noexcept { return self_; }

  /// Event time: the time of the event being handled (the last one seen between events; the
  /// epoch before any). Trading decisions use it, never the wall clock, so a replay at full
  /// speed decides as the live market did.
  [[nodiscard]] timestamp now() const noexcept { return now_; }
  /// The time for an event the actor makes on its own, not as the child of one it handles (a
  /// notice such as STRATEGY_STARTED): the wall clock, except in deterministic mode (libra-runtime
  /// --deterministic, libra::testing), where it is now(), so that a rerun stamps the same. Use it
  /// instead of utc_now() (event::create's default) in a handler.
  [[nodiscard]] timestamp stamp() const { return deterministic_ ? now_ : utc_now(); }
  /// True in deterministic mode: every actor runs on one thread, in a fixed order, on CAF's test
  /// coordinator; delayed messages run on virtual time (see docs/writing-an-actor.md).
  [[nodiscard]] bool deterministic() const noexcept { return deterministic_; }

  /// Publishes e; a refusal (bus full or stopping) is counted and logged rate-limited, so a
  /// handler need not check unless it keeps its own figures.
  publish_result publish(event e) {
    const auto type = e.type();
    // The actor's own producer handle: its handlers run on whichever worker CAF picks, and the bus
    // keeps FIFO per handle (bus::publish alone would give FIFO per thread, so two events of one
    // handler sequence, published from two workers, could be dispatched in either order).
    if (!pub_)
      pub_.emplace(rt_.bus->make_publisher());
    auto r = pub_->publish(std::move(e));
    if (!r)
      if (const auto n = unpublished_.count())
        rt_.log->warn("event not published: bus full or stopping: type={} occurrences={}", to_string(type), n);
    return r;
  }
  /// Publishes an event caused by `cause`: its child (same trace id), stamped with its time.
  template <class Payload>
  publish_result publish_child(const event& cause, event_type type, const Payload& payload) {
    return publish(cause.child_event(type, rt_.source, payload, cause.time()));
  }
  /// Events the bus refused so far.
  [[nodiscard]] std::uint64_t unpublished() const noexcept { return unpublished_.total(); }

  /// Figures and summary lines about the actor's work, for the run's summary, --stats-json and
  /// /metrics (libra/report.hpp): the actor knows its trading figures, the runtime shows them.
  [[nodiscard]] actor_report& report() const noexcept { return *rt_.report; }

  /// Another actor of the topology by name (e.g. the one a require_actor param names); invalid
  /// when there is none.
  [[nodiscard]] caf::actor find(std::string_view actor_name) const {
    return rt_.directory ? rt_.directory->find(actor_name) : caf::actor{};
  }
  /// A producer calls this once when it has nothing more to publish (end of data, after halt).
  void finished() const {
    if (rt_.finished)
      rt_.finished();
  }
  /// A producer that cannot go on calls this instead of finished(): the run stops with exit 1.
  void failed(const std::string& why) const {
    if (rt_.failed)
      rt_.failed(why);
  }

private:
  template <class T>
  friend struct detail::actor_state;
  caf::event_based_actor* self_;
  actor_context rt_;
  timestamp now_{};
  bool deterministic_ = false;
  log_limiter unpublished_;      // a full or stopping bus refuses every event: log a few
  std::optional<publisher> pub_; // made at the first publish: actors that never publish need none
};

/// What an actor type T provides: a spec, a constructor from params (validates, throwing
/// config_error located by params; starts nothing: --check runs it and exits), and its
/// subscriptions. Optional members, found by name: on_event(context&, const event&) for bus
/// events; on_direct(context&, const event&) for events other actors send it; run(context&) and
/// halt(context&); handlers(context&) returning a caf::message_handler for its own messages
/// (tried first: a `libra::delivery&` handler there takes whole batches instead of on_event);
/// open(const actor_context&) at spawn, before anything runs, for what must be taken up front
/// (a file to lock: a throw refuses the start); on_exit(context&) when the actor ends (log a
/// summary there: the actor is going).
template <class T>
concept actor_definition =
  std::copy_constructible<T> && std::constructible_from<T, const params&> && requires(const T& t) {
  { T::spec } -> std::convertible_to<actor_spec>;
  { t.subscriptions() } -> std::convertible_to<std::vector<subscription>>;
};

namespace detail {

/// The CAF state: the context and the author's T (constructed once the actor exists).
template <class T>
struct actor_state {
  actor_state() = default; // user-declared: CAF 0.17 constructs the state in place
  actor_state(const actor_state&) = delete;
  actor_state& operator=(const actor_state&) = delete;
  ~actor_state() {
    if constexpr (requires(T & t, context & c) { t.on_exit(c); })
      if (impl && ctx)
        impl->on_exit(*ctx);
  }
  void handle(const event& e, bool direct) {
    ctx->now_ = e.time();
    if (!direct) {
      if constexpr (requires(T & t, context & c) { t.on_event(c, e); })
        impl->on_event(*ctx, e);
    } else if constexpr (requires(T & t, context & c) { t.on_direct(c, e); }) {
      impl->on_direct(*ctx, e);
    } else {
      ctx->log().warn("ignored an event sent directly: {}", to_string(e));
    }
  }
  std::optional<context> ctx;
  std::optional<T> impl;
};

template <class T>
caf::behavior actor_body(caf::stateful_actor<actor_state<T>>* self, actor_context rt, T impl) {
  auto& st = self->state;
  st.ctx.emplace(self, std::move(rt));
  st.impl.emplace(std::move(impl));
  caf::message_handler common{
    on_events([self](const event& e) { self->state.handle(e, false); }),
    [self](const event& e) { self->state.handle(e, true); },
    // run/halt default to doing nothing; self is unused then.
    [self](run_atom) {
      if constexpr (requires(T & t, context & c) { t.run(c); })
        self->state.impl->run(*self->state.ctx);
      else
        (void)self;
    },
    [self](halt_atom) {
      if constexpr (requires(T & t, context & c) { t.halt(c); })
        self->state.impl->halt(*self->state.ctx);
      else
        (void)self;
    },
  };
  if constexpr (requires(T & t, context & c) { t.handlers(c); })
    return st.impl->handlers(*st.ctx).or_else(common);
  else
    return common;
}

inline std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  for (std::size_t i = 0; i < text.size();) {
    const auto end = std::min(text.find(' ', i), text.size());
    if (end > i)
      words.emplace_back(text.substr(i, end - i));
    i = end + 1;
  }
  return words;
}

} // namespace detail

/// The registry entry of an actor type written as a T (see actor_definition).
template <actor_definition T>
actor_type_info actor_type() {
  auto factory = [](const params& p) -> spawn_fn {
    return [proto = T(p)](const actor_context& ctx) {
      auto rt = ctx;
      const bool detached = T::spec.detached && !detail::runs_on_test_coordinator(*ctx.system);
      if (detached)
        rt.directory.reset(); // a detached actor keeping every handle would block the system's shutdown
      T impl = proto;
      // What must be taken before anything runs (a file to lock): a throw here stops the start.
      if constexpr (requires(T & t) { t.open(ctx); })
        impl.open(ctx);
      caf::actor a;
      if (detached)
        a = ctx.system->spawn<caf::detached>(detail::actor_body<T>, std::move(rt), std::move(impl));
      else
        a = ctx.system->spawn(detail::actor_body<T>, std::move(rt), std::move(impl));
      // Here, not in the actor's init (CAF runs that later, on a worker): subscribed before the
      // runtime sends run_atom, so no event published after it is missed.
      bool market_data = false;
      for (auto& s : proto.subscriptions()) {
        subscribe_options opts;
        if (priority_of(s.type) == priority::market_data) {
          opts.conflate = ctx.conflate;
          market_data = true;
        }
        ctx.bus->subscribe(s.type, a, std::move(s.only), opts);
      }
      if (ctx.conflate != conflation::none && !market_data && ctx.log)
        ctx.log->warn("conflate: has no effect: {} subscribes to no TICK, BAR or ORDER_BOOK", ctx.name);
      return a;
    };
  };
  return {std::move(factory), std::string{T::spec.description}, T::spec.producer, detail::split_words(T::spec.roles)};
}

/// Registers T under T::spec.name; throws std::invalid_argument when the name is taken.
template <actor_definition T>
void add_actor(actor_registry& registry) {
  registry.add(std::string{T::spec.name}, actor_type<T>());
}

} // namespace libra
