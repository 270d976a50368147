// A topology file, loaded and validated in full before anything starts: bus settings, runtime
// settings, logging, plugins, and the actors with their validated spawn functions.
#pragma once

#include "journal/config.hpp"

#include <libra/actor_registry.hpp>
#include <libra/bus_config.hpp>
#include <libra/config_error.hpp>
#include <libra/system_config.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace libra::core {

// What a topology may be, checked before yaml-cpp builds its tree (~470 B of memory per node,
// so the tree stays within ~30 MB): config/README.md, "Bad input: what libra does".
/// Largest topology file, in bytes (the shipped ones are < 2 KiB).
inline constexpr std::size_t max_topology_bytes = std::size_t{1} << 20;
/// Most YAML nodes (scalars, lists, mappings, each key; an alias counts the nodes it repeats).
inline constexpr std::size_t max_topology_nodes = std::size_t{1} << 16;
/// Deepest nesting of lists and mappings (a topology needs 5).
inline constexpr std::size_t max_topology_depth = 32;
/// Most actors in one topology.
inline constexpr std::size_t max_actors = 1024;
/// Memory of one event staged in the bus (libra-bench-memory: 141 B at capacity 100k, 140 B at 1M).
inline constexpr std::size_t staged_event_bytes = 140;
/// Largest bus.capacity (bus_config::capacity): 2^24 staged events take ~2.3 GB.
inline constexpr std::int64_t max_capacity = std::int64_t{1} << 24;

struct actor_spec {
  std::string name;
  std::string type;
  bool producer = false;
  spawn_fn spawn;
  std::string node; ///< the node it runs on (`node:`); empty when the topology has no nodes
  /// `conflate: by_instrument`: behind, it gets the newest tick (bar, book) per instrument only.
  conflation conflate = conflation::none;
};

/// One process of a distributed topology (`nodes:`): where its node actor listens.
struct node_spec {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  std::filesystem::path certificate; ///< this node's own (nodes.NAME.certificate); empty: network.tls's
  std::filesystem::path key;
  [[nodiscard]] bool loopback() const; ///< host is 127.x.x.x, ::1 or localhost
  /// What `nodes: {NAME: {port: PORT}}` gives (tests and benchmarks build their own).
  [[nodiscard]] static node_spec on_loopback(std::string name, std::uint16_t port) {
    node_spec n;
    n.name = std::move(name);
    n.host = "127.0.0.1";
    n.port = port;
    return n;
  }
};

/// `network.tls`: every link runs over TLS (caf_openssl), each side verifying the other's
/// certificate against the CA.
struct tls_spec {
  std::filesystem::path certificate; ///< PEM chain of the node (nodes.NAME.certificate overrides)
  std::filesystem::path key;         ///< its private key (PEM)
  std::filesystem::path ca;          ///< PEM file of the CA(s) that signed every node's certificate
  std::string passphrase;            ///< of the key, when it has one
};

/// What a node does when a peer is lost (`network.on_node_loss`).
enum class node_loss_policy { halt, cont };

/// The `nodes:` and `network:` blocks (runtime/src/net/; config/README.md, "nodes").
struct network_spec {
  std::vector<node_spec> nodes;                           ///< empty: one process, as without nodes
  std::vector<std::pair<std::string, std::string>> links; ///< node pairs that connect; empty: all pairs
  node_loss_policy on_node_loss = node_loss_policy::halt;
  std::chrono::milliseconds connect_timeout{30'000};
  std::chrono::milliseconds heartbeat_interval{100};
  std::chrono::milliseconds heartbeat_timeout{500};
  std::uint32_t window = 8;                       ///< batches in flight per link, unacknowledged
  std::uint32_t batch_events = 256;               ///< most events in one batch
  std::map<std::string, std::string> actor_nodes; ///< actor name -> its node (every actor of the file)
  std::map<std::string, std::string> actor_types; ///< actor name -> its type (every actor of the file)
  std::optional<tls_spec> tls;                    ///< network.tls; none: plain TCP (loopback, or insecure)
  bool insecure = false;                          ///< network.insecure: plain TCP off loopback, knowingly
  /// Peers of node `name`: the other nodes it links with, in file order.
  [[nodiscard]] std::vector<const node_spec*> peers_of(const std::string& name) const;
  [[nodiscard]] const node_spec* find(const std::string& name) const;
};

/// The `metrics:` block: serve Prometheus metrics (core/metrics.hpp).
struct metrics_spec {
  std::string listen = "127.0.0.1:9464"; ///< HOST:PORT, as core::metrics_address() returns it
  bool required = false;                 ///< true: a run that cannot listen there does not start (exit 2)
};

struct topology {
  std::filesystem::path file;
  bus_config bus;
  std::size_t workers = 2;
  idle_policy idle = idle_policy::responsive;
  std::chrono::milliseconds stats_interval{1000};
  std::chrono::milliseconds duration{0}; ///< 0: until the data ends or a signal
  std::string log_level = "info";
  std::vector<std::filesystem::path> plugins;
  std::vector<actor_spec> actors;
  std::optional<journal::journal_config> journal; ///< the `journal:` block, when present
  bool deterministic = false;          ///< runtime.deterministic: one thread, CAF's test coordinator (runner.cpp)
  network_spec network;                ///< `nodes:` and `network:`; no nodes: one process
  std::optional<metrics_spec> metrics; ///< the `metrics:` block, when present
};

/// Loads plugins named in the file into registry (they stay loaded for the process), then
/// validates everything. Throws config_error (the first problem, located) on any error, and
/// nothing else: whatever else goes wrong while loading becomes a config_error too.
topology load_topology(const std::filesystem::path& file, actor_registry& registry);

} // namespace libra::core
