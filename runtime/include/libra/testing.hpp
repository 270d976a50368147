// libra::testing: test an actor deterministically, with any test framework (link libra::testing).
// A fixture runs a bus and your actors on CAF's test coordinator: nothing runs until you say so,
// then everything runs on your thread, one message at a time, in a fixed order, until idle.
// Not thread-safe: one fixture per test, used from the thread that made it.
//
//   libra::testing::fixture f;
//   f.add<my_actor>("mine", "{threshold: 2}");   // params as a topology gives them
//   f.start();                                   // bus started, run sent, run until idle
//   f.publish(some_tick);
//   f.run_until_idle();                          // the tick and all it caused are handled
//   CHECK(f.published(libra::event_type::signal).size() == 1);
//
// What is deterministic: the broker, the subscriber actors and every actor added here run inside
// run_until_idle() (and advance_time(), start(), stop()) on the caller's thread, in the order CAF's
// test coordinator takes jobs (FIFO); when it returns, every event published so far has been
// dispatched and handled, and so has everything those handlers published or sent, so there is
// nothing to wait for and no sleep. An actor whose spec says `detached` runs there too (not on a
// thread of its own). Time: delayed messages (delayed_send, request timeouts) use a virtual
// clock that moves only in advance_time(). Event time (context::now()) is the events' own.
// Not covered: threads an actor starts itself, and the wall clock (utc_now(), the default time
// of event::create): give test events explicit times.
#pragma once

#include <libra/actor.hpp>
#include <libra/actor_registry.hpp>
#include <libra/bus.hpp>
#include <libra/bus_config.hpp>
#include <libra/event.hpp>
#include <libra/params.hpp>
#include <libra/report.hpp>

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace libra::testing {

/// Params from YAML text, as the topology loader builds them for `actors[0].params` of a file
/// `test.yaml` in base_dir (relative paths in them resolve against base_dir). Throws
/// config_error when the text is not a YAML mapping.
[[nodiscard]] params yaml_params(std::string_view yaml, const std::filesystem::path& base_dir = {});

/// A bus and actors on CAF's test coordinator (see the top of this header for what it makes
/// deterministic). Destroying it stops the bus and ends every actor (their on_exit runs).
class fixture {
public:
  /// A fresh actor system on the test coordinator and a bus with cfg (not started). Unless cfg
  /// names a logger, the bus logs into bus_log().
  explicit fixture(bus_config cfg = {});
  ~fixture();
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  // -- actors -------------------------------------------------------------------------------------

  /// Spawns a T (see libra/actor.hpp) under name with params from YAML text, as libra-runtime
  /// would: T's constructor validates them (config_error), a key it did not read is an error (the
  /// first such config_error is thrown), it is subscribed at once and it finds the other actors of
  /// the fixture by name. Only the new actor runs here (its initialization).
  template <actor_definition T>
  caf::actor add(std::string name, std::string_view yaml = "{}") {
    return add(actor_type<T>(), std::move(name), yaml_params(yaml));
  }
  /// The same with params you built (e.g. with yaml_params and a base directory).
  template <actor_definition T>
  caf::actor add(std::string name, const params& p) {
    return add(actor_type<T>(), std::move(name), p);
  }
  /// An actor of a registered type (e.g. one a plugin's LIBRA_PLUGIN function registered).
  /// Throws std::invalid_argument when the registry has no such type.
  caf::actor add(const actor_registry& registry, std::string_view type, std::string name, std::string_view yaml = "{}");
  caf::actor add(const actor_registry& registry, std::string_view type, std::string name, const params& p);
  /// An actor of this type entry (actor_type<T>() or a registry's entry).
  caf::actor add(const actor_type_info& type, std::string name, const params& p);

  /// A stand-in under name that records the events other actors send it directly (e.g. the
  /// execution actor a risk engine names in its params): see sent_to(name).
  caf::actor add_stub(std::string name);

  /// The actor (or stub) added under name; throws std::out_of_range when there is none.
  [[nodiscard]] caf::actor actor(std::string_view name) const;

  /// The T of an actor added under name as a T (not a stub or a registry type of another class),
  /// to read its members between runs (valid while the actor lives). Throws
  /// std::logic_error when the actor is not a T or has not been initialized.
  template <actor_definition T>
  [[nodiscard]] const T& state(std::string_view name) const {
    auto* self = dynamic_cast<caf::stateful_actor<libra::detail::actor_state<T>>*>(
      caf::actor_cast<caf::abstract_actor*>(actor(name)));
    if (self == nullptr || !self->state.impl)
      throw std::logic_error("libra::testing::fixture::state: '" + std::string{name}
                             + "' is not a live actor of that type");
    return *self->state.impl;
  }

  // -- driving ------------------------------------------------------------------------------------

  /// Starts the bus, sends run_atom to every actor added so far (in the order added), and runs
  /// until idle. Each actor takes its run_atom first; events published before are dispatched
  /// then, in priority order.
  void start();
  /// Publishes e on the bus (dispatched at the next run). Throws std::runtime_error when the bus
  /// refuses it (full or stopped): test bus_config limits through bus() instead.
  void publish(event e);
  /// Sends e directly to the actor added under name (its on_direct), as another actor would.
  void send(std::string_view name, event e);
  /// Sends halt_atom to the actor added under name (a producer stops and calls finished()).
  void halt(std::string_view name);
  /// Runs until no job is left; returns how many ran. Delayed messages not yet due stay pending.
  std::size_t run_until_idle();
  /// Moves the virtual clock forward by d, delivers the delayed messages due by then, and runs
  /// until idle; returns how many jobs ran.
  std::size_t advance_time(caf::timespan d);
  /// Runs until idle, stops the bus (draining it) and ends every actor of the fixture (their
  /// on_exit runs); idempotent. The destructor calls it.
  void stop();

  // -- inspecting ---------------------------------------------------------------------------------

  /// Every event the bus dispatched so far (the ones the test published and the ones the actors
  /// did), in the order the bus delivered them: by priority, FIFO per publisher.
  [[nodiscard]] const std::vector<event>& published() const;
  /// Those of one type, or of any of several types, in the same order.
  [[nodiscard]] std::vector<event> published(event_type type) const;
  [[nodiscard]] std::vector<event> published(std::initializer_list<event_type> types) const;
  /// The events actors sent directly to the stub added under name, in arrival order.
  [[nodiscard]] const std::vector<event>& sent_to(std::string_view name) const;
  /// What the actor added under name logged (every level from debug up), one line per record.
  [[nodiscard]] std::string log(std::string_view name) const;
  /// What the bus logged (handler exceptions, refused publishes, the stop summary).
  [[nodiscard]] std::string bus_log() const;
  /// How many times the actor added under name called context::finished().
  [[nodiscard]] std::size_t finished(std::string_view name) const;
  /// The reasons it passed to context::failed(), in order (empty: it never failed).
  [[nodiscard]] const std::vector<std::string>& failures(std::string_view name) const;
  /// What it reported (context::report(): figures and summary lines); it outlives the actor.
  [[nodiscard]] const actor_report& report(std::string_view name) const;

  /// The bus (stats(), subscribe, publish with its own result).
  [[nodiscard]] libra::bus& bus();
  /// The actor system (on the test coordinator). An actor you spawn on it yourself must be ended
  /// by you before the fixture goes, or the system's shutdown waits for it forever.
  [[nodiscard]] caf::actor_system& system();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace libra::testing
