// The registry of actor types that libra-runtime launches from a topology, and what an actor gets
// from the runtime. A type's factory validates an actor's params (nothing starts) and returns how
// to spawn it; the runtime spawns all actors, then sends each run_atom, and on shutdown halt_atom,
// then an exit. Types are registered by name, in the runtime or from a plugin library
// (LIBRA_PLUGIN). Most authors use libra/actor.hpp, which fills these in from an actor class.
#pragma once

#include <libra/export.hpp>

#include <libra/bus.hpp>
#include <libra/params.hpp>
#include <libra/report.hpp>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <spdlog/logger.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace libra {

/// Sent by the runtime to every actor once all are spawned and the bus runs: start producing.
using run_atom = caf::atom_constant<caf::atom("run")>;
/// Sent by the runtime on shutdown (SIGINT/SIGTERM, --duration): stop producing, then call
/// actor_context::finished(). Actors that produce nothing may ignore it.
using halt_atom = caf::atom_constant<caf::atom("halt")>;

/// Names of the actors of a running topology (filled after all are spawned, before run_atom).
class actor_directory {
public:
  void add(std::string name, caf::actor a) { actors_[std::move(name)] = std::move(a); }
  /// The actor with this name; invalid when there is none.
  [[nodiscard]] caf::actor find(std::string_view name) const {
    auto it = actors_.find(std::string{name});
    return it == actors_.end() ? caf::actor{} : it->second;
  }
  void clear() { actors_.clear(); }

private:
  std::map<std::string, caf::actor> actors_;
};

/// What an actor gets from the runtime. Copyable; valid while the runtime runs.
struct actor_context {
  caf::actor_system* system = nullptr;
  libra::bus* bus = nullptr;
  std::string name;                    ///< unique name from the topology
  source_id source;                    ///< name as the source of the events it publishes
  std::shared_ptr<spdlog::logger> log; ///< "libra.<name>"
  std::shared_ptr<const actor_directory> directory;
  /// The topology's `conflate:` for this actor, for its TICK, BAR and ORDER_BOOK subscriptions:
  /// actor_type<T> applies it to those of T::subscriptions(); an actor that subscribes by hand
  /// passes it in its subscribe_options.
  conflation conflate = conflation::none;
  /// A producer (gateway) calls this once when it has nothing more to publish (end of data or
  /// after halt_atom); the runtime drains and stops when every producer finished.
  std::function<void()> finished;
  /// A producer that cannot go on (bad input, unreadable file) calls this instead of finished():
  /// the run stops, drains, prints the summary with the reason and exits 1.
  std::function<void(const std::string& why)> failed;
  /// What the actor reports about its work (libra/report.hpp): the runtime shows it in the
  /// summary, --stats-json and /metrics. Copies of this context share it.
  std::shared_ptr<actor_report> report = std::make_shared<actor_report>();
};

/// Spawns one configured actor (params already validated).
using spawn_fn = std::function<caf::actor(const actor_context&)>;

/// Validates params (throwing config_error) and returns how to spawn the actor. Must not start
/// anything: --check runs every factory and then exits.
using actor_factory = std::function<spawn_fn(const params&)>;

/// What a registered actor type is.
struct actor_type_info {
  actor_type_info() = default;
  /// `{factory, "what it does", producer, {"role", ...}}`.
  actor_type_info(actor_factory make, std::string what, bool is_producer = false,
                  std::vector<std::string> can_play = {})
    : factory{std::move(make)}, description{std::move(what)}, producer{is_producer}, roles{std::move(can_play)} {}

  actor_factory factory;
  std::string description;
  bool producer = false; ///< publishes on its own (a gateway): the run ends when all producers finished
  /// The roles it can play for an actor that names it (params::require_actor), e.g. "execution":
  /// takes the ORDER_NEW intents sent to it directly and fills or rejects them.
  std::vector<std::string> roles;
};

/// Factories by type name ("gateway.replay", "risk.engine", ...).
class LIBRA_API actor_registry {
public:
  /// Registers a type; throws std::invalid_argument when the name is taken.
  void add(std::string type, actor_type_info info);
  [[nodiscard]] const actor_type_info* find(std::string_view type) const;
  [[nodiscard]] std::vector<std::string> types() const;

private:
  std::map<std::string, actor_type_info, std::less<>> types_;
};

} // namespace libra

/// Entry point of a plugin library: `LIBRA_PLUGIN(registry) { registry.add(...); }`.
// NOLINTNEXTLINE(bugprone-macro-parentheses): the argument names a parameter
#define LIBRA_PLUGIN(registry_param) extern "C" void libra_register_actors(::libra::actor_registry& registry_param)

// Actors of one runtime may send events to each other directly (e.g. risk -> execution: an
// approved order intent). Events hold shared pointers and never leave the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(libra::event)
