// One node of a distributed topology (`libra-runtime TOPOLOGY --node NAME`): the node actor that
// CAF's middleman publishes on the node's port, and one link actor per peer node.
//
// Why this shape (measured on CAF 0.17.6 over loopback): the middleman drops
// the urgent flag on the wire, delivers a connection strictly FIFO and applies no back-pressure,
// so priority is kept *before* the wire: each link stages outgoing events per priority and sends
// the highest non-empty stage first, with at most `window` batches unacknowledged. A batch is one
// CAF message (batch_atom, seq, bytes) whose bytes are journal records (journal/codec.hpp): whole
// events, trace context included, with no CAF type registration, at a raw-copy cost.
// Node loss: a down message for the peer's actors; CAF heartbeats make a silent peer one too.
#pragma once

#include "core/topology.hpp"

#include <libra/bus.hpp>
#include <libra/json.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace libra::net {

/// Figures of one link (events are counted once per link they cross).
struct link_stats {
  std::string peer;
  bool up = false;                ///< the handshake completed and the peer was not lost
  bool lost = false;              ///< the peer was lost (down message, heartbeat timeout)
  bool closed = false;            ///< the peer went away at the end of the run
  std::uint64_t sent = 0;         ///< events sent to the peer
  std::uint64_t acked = 0;        ///< of those, acknowledged by the peer (published on its bus)
  std::uint64_t received = 0;     ///< events received from the peer and published here
  std::uint64_t batches_sent = 0; ///< CAF messages carrying events
  std::uint64_t batches_received = 0;
  std::uint64_t lost_events = 0; ///< staged or in flight when the peer was lost
  std::uint64_t bad_batches = 0; ///< batches that did not decode (dropped, counted)
  std::uint64_t held = 0;        ///< received, not yet published here (the bus was full, or not decoded yet)
  std::uint32_t wants = 0;       ///< the event types the peer asked for (mask of type_bit)
};

/// What the node tells the runner.
struct node_callbacks {
  std::function<void()> wake;                        ///< something changed: re-check finished()
  std::function<void(const std::string&)> node_lost; ///< a peer was lost (the policy is the runner's)
};

class node_state;

class node {
public:
  /// CAF settings of a node: the middleman (caf::io) and its heartbeats, on every node (a
  /// node with a connection timeout cuts a peer that sends no heartbeats).
  /// With network.tls, the openssl manager too, with node `name`'s certificate.
  static void configure(caf::actor_system_config& cfg, const core::network_spec& net, const std::string& name = {});

  /// wants: mask (type_bit) of the types this node's actors subscribed to. baseline: the
  /// subscriptions per type that are not the actors' (the runtime's own); with it the node
  /// watches the bus and tells its peers when its actors subscribe to or drop a type later.
  node(caf::actor_system& sys, bus& b, const core::network_spec& net, std::string name, std::uint32_t wants,
       node_callbacks cb, std::optional<std::array<std::size_t, event_type_count>> baseline = std::nullopt);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Publishes the node actor on the node's host:port; an error message when that fails.
  [[nodiscard]] std::optional<std::string> listen();
  /// Connects to every peer (retrying, a log line per attempt) and exchanges subscriptions.
  /// True when every link is up; false after network.connect_timeout or when cancelled()
  /// turns true (polled). unreachable() then names the peers not up.
  bool wait_connected(const std::function<bool()>& cancelled);
  [[nodiscard]] std::vector<std::string> unreachable() const;

  /// The end of this node's own data: its producers are done (or it has none). Then poll()
  /// runs the distributed end-of-data check; finished() turns true when every node's producers
  /// are done and nothing is in flight anywhere (counters stable over two rounds).
  void poll();
  [[nodiscard]] bool finished() const;
  /// The run is ending: a peer that goes away now is not a loss, and the peers are told that
  /// this node's end is not one either.
  void closing();

  [[nodiscard]] std::vector<link_stats> stats() const;
  /// Events received from peers, per type (what the bus saw that did not start here).
  [[nodiscard]] std::array<std::uint64_t, event_type_count> received_by_type() const;
  void print_summary(std::FILE* out) const;
  /// Writes a JSON object (links, received_by_type) for --stats-json.
  void json(json_writer& w) const;

private:
  std::shared_ptr<node_state> st_;
  // The node's actors, held here and not in st_: their behaviors hold st_, and a handle in st_
  // would close a cycle that keeps them, st_ and the middleman's proxies alive past the run.
  caf::actor node_actor_;
  std::vector<caf::actor> link_actors_;
  caf::actor prober_; ///< TCP probes before CAF's (blocking) connect
};

} // namespace libra::net
