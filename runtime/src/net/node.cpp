#include "node.hpp"

#include "journal/codec.hpp"

#include <libra/delivery.hpp>
#include <libra/json.hpp>
#include <libra/payloads.hpp>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace libra::net {

// Messages between nodes: CAF atoms and built-in types only, so nothing needs registering on
// either side (CAF 0.17 delivers an unregistered type as an empty message).
using hello_atom = caf::atom_constant<caf::atom("lhello")>; // (name, wants) to a node actor
// (wants, link): the node actor hands a dialler's hello to its link; the other side's link
// answers with its own straight to the dialler's link.
using peer_hello_atom = caf::atom_constant<caf::atom("lphello")>;
using hello_ack_atom = caf::atom_constant<caf::atom("lhelloack")>;
using batch_atom = caf::atom_constant<caf::atom("lbatch")>;       // (seq, priority, events, journal records)
using ack_atom = caf::atom_constant<caf::atom("lack")>;           // (seq)
using query_atom = caf::atom_constant<caf::atom("lquery")>;       // (round): end-of-data check
using reply_atom = caf::atom_constant<caf::atom("lreply")>;       // (round, done, idle, sent, received)
using bye_atom = caf::atom_constant<caf::atom("lbye")>;           // every node's data is done
using stopping_atom = caf::atom_constant<caf::atom("lstopping")>; // this node is ending its run
using wants_atom = caf::atom_constant<caf::atom("lwants")>;       // (mask): what the peer's actors want now
using watch_atom = caf::atom_constant<caf::atom("lwatch")>;       // local: look at this node's subscriptions
using sync_atom = caf::atom_constant<caf::atom("lsync")>;         // local: tell the peer our wants if changed
using ask_atom = caf::atom_constant<caf::atom("lask")>;           // local: (round) query the peer
using poke_atom = caf::atom_constant<caf::atom("lpoke")>;         // local: a new snapshot is ready
using dial_atom = caf::atom_constant<caf::atom("ldial")>;         // local: (re)try connecting
using retry_atom = caf::atom_constant<caf::atom("lretry")>;       // local: publish held events again
using drain_atom = caf::atom_constant<caf::atom("ldrain")>;       // local: decode the next batch received
using probe_atom = caf::atom_constant<caf::atom("lprobe")>;       // local: (host, port) -> reachable
using connect_atom = caf::atom_constant<caf::atom("lconnect")>;   // local: (attempt) the probe passed

namespace {

constexpr std::chrono::milliseconds first_backoff{50};
constexpr std::chrono::milliseconds max_backoff{1000};
constexpr std::chrono::milliseconds connect_request_timeout{2000};
constexpr std::chrono::milliseconds full_bus_retry{1};
constexpr std::chrono::milliseconds idle_probe{20};
constexpr std::chrono::milliseconds tcp_probe_timeout{500};
constexpr std::chrono::milliseconds watch_interval{20};

/// Whether host:port accepts a TCP connection within the timeout. Asked before every connect:
/// CAF 0.17's middleman connects with a blocking connect(2) in its one actor, so towards a host
/// that drops packets (a partition) it blocks for the kernel's SYN timeout, about 2 minutes, and
/// every later connect, the one after the network heals included, waits behind it (seen in the
/// partition test). The probe's connection carries no data; the node closes it at once.
bool tcp_reachable(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
    return false;
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned{found, &::freeaddrinfo};
  for (const auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    bool ok = ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
    }
    ::close(fd);
    if (ok)
      return true;
  }
  return false;
}

/// Runs the probes on a thread of its own (detached): they block for up to their timeout. (The
/// timeout is an argument: CAF 0.17 spawning a function of no arguments binds a reference to a
/// null pointer, which UBSan reports.)
caf::behavior prober_actor(caf::event_based_actor* /*self*/, std::chrono::milliseconds timeout) {
  return {
    [timeout](probe_atom, const std::string& host, std::uint16_t port) { return tcp_reachable(host, port, timeout); }};
}

/// One node's view at one instant, for the end-of-data check.
struct snapshot {
  std::uint64_t epoch = 0;
  bool done = false; ///< its producers are done
  bool idle = false; ///< its bus was idle and nothing staged on its links
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool operator==(const snapshot& o) const {
    return done == o.done && idle == o.idle && sent == o.sent && received == o.received;
  }
};

std::string mask_names(std::uint32_t mask) {
  std::string out;
  for (auto t : all_event_types)
    if ((mask & type_bit(t)) != 0)
      out += fmt::format("{}{}", out.empty() ? "" : ",", to_string(t));
  return out.empty() ? "-" : out;
}

} // namespace

/// One link's figures and handshake flags: written by its actor, read by the runner.
struct link_shared {
  std::string peer;
  std::string host;
  std::uint16_t port = 0;
  caf::actor_addr actor;             ///< weak: the node object holds the strong handle (no cycle)
  std::atomic<bool> hello_in{false}; ///< the peer told us what it wants (we subscribed for it)
  std::atomic<bool> ack_in{false};   ///< the peer subscribed for what we want
  std::atomic<bool> lost{false};
  std::atomic<bool> closed{false}; ///< went away at the end of the run, as expected
  std::atomic<bool> bye{false};
  std::atomic<bool> stopping{false}; ///< the peer said it is ending its run (a signal, its duration)
  std::atomic<std::uint64_t> sent{0}, acked{0}, received{0}, batches_sent{0}, batches_received{0}, lost_events{0},
    bad_batches{0}, staged{0}, held{0};
  std::atomic<std::uint32_t> wants{0};
};

class node_state {
public:
  caf::actor_system* sys = nullptr;
  bus* b = nullptr;
  core::network_spec net;
  std::string name;
  std::atomic<std::uint32_t> wants{0}; ///< what this node's actors subscribed to (mask of type_bit)
  /// The runtime's own subscriptions per type (not shipped); none: `wants` never changes.
  std::optional<std::array<std::size_t, event_type_count>> baseline;
  /// Subscriptions the links made per type (for their peers' actors): not this node's wants.
  std::array<std::atomic<std::size_t>, event_type_count> link_subs{};
  node_callbacks cb;
  std::shared_ptr<spdlog::logger> log;
  std::vector<std::unique_ptr<link_shared>> links;
  std::array<std::atomic<std::uint64_t>, event_type_count> received_by_type{};
  /// Sources of the actors of other nodes: events from them are not shipped on.
  std::shared_ptr<const std::set<std::string, std::less<>>> remote_sources;
  std::atomic<bool> closing{false};
  std::atomic<bool> finished{false};

  std::mutex mu;
  std::condition_variable cv;
  // End-of-data check (guarded by mu): this node's latest snapshot and the rounds it runs.
  std::atomic<std::uint64_t> epoch{0};
  snapshot local;
  std::uint64_t round = 0; ///< the round under way (0: none yet)
  bool round_open = false;
  std::vector<snapshot> round_snaps; ///< [0] own, then one per link (epoch 0: no reply yet)
  std::vector<snapshot> last_round;  ///< the previous complete round

  void wake() {
    cv.notify_all();
    if (cb.wake)
      cb.wake();
  }
  std::uint64_t total_sent() const {
    std::uint64_t n = 0;
    for (const auto& l : links)
      n += l->sent.load();
    return n;
  }
  std::uint64_t total_received() const {
    std::uint64_t n = 0;
    for (const auto& l : links)
      n += l->received.load();
    return n;
  }
};

namespace {

struct out_batch {
  std::vector<std::byte> bytes;
  std::uint32_t events = 0;
};

/// A batch received and not decoded yet.
struct in_batch {
  std::uint64_t seq = 0; ///< 0: from a lost incarnation of the peer (not acked)
  std::uint32_t events = 0;
  std::string bytes;
};

/// A batch sent and not acknowledged yet.
struct sent_batch {
  std::uint32_t events = 0;
  bool reserved = false; ///< sent in the slot kept for RISK
};

/// A link actor's own state (touched by that actor only).
struct link_state {
  std::shared_ptr<node_state> node;
  link_shared* sh = nullptr;
  std::size_t index = 0; ///< in node->links
  // One connection per pair of nodes: the node whose name sorts first dials, the other waits for
  // its hello. (Both dialling opens two connections; over TLS CAF 0.17 then drops the pair's
  // routes, and both sides see the other lost.)
  bool dialer = false;
  caf::actor prober; ///< the node's (dialling links only)
  caf::actor remote_node;
  caf::actor remote_link;
  int attempt = 0;
  std::chrono::milliseconds backoff = first_backoff;
  bool subscribed = false;
  std::array<std::deque<out_batch>, priority_count> stages; ///< per priority, RISK first
  // The window (net.window batches in flight), and one more slot that only a RISK batch may take:
  // a breaker goes out at once, not after an ack for a batch of ticks.
  std::uint32_t credit = 0;
  bool risk_slot = true;
  std::uint64_t next_seq = 1;
  std::map<std::uint64_t, sent_batch> in_flight;
  // Receiving: batches wait undecoded, per priority, and one is decoded per drain_atom, which goes
  // to the back of the mailbox: batches that arrived meanwhile are filed first, so a RISK batch
  // waits for at most the one batch being decoded, not for every batch of ticks ahead of it.
  std::array<std::deque<in_batch>, priority_count> inbox;
  std::uint64_t inbox_events = 0; ///< events in the inbox's batches (the `held` figure, in O(1))
  bool drain_scheduled = false;
  // Decoded events the bus refused as full, per priority: published again (RISK first) before
  // their batch is acked.
  std::array<std::vector<event>, priority_count> held;
  bool retry_scheduled = false;
  std::array<std::deque<std::pair<std::uint64_t, std::uint64_t>>, priority_count> held_batches; ///< (seq, events)
  std::vector<std::pair<std::uint64_t, std::uint64_t>> queries;      ///< (round, epoch at arrival)
  std::optional<publisher> pub;                                      ///< made at the first batch received
  std::array<std::optional<subscription_id>, event_type_count> subs; ///< for the peer's wants
  std::uint32_t told = 0;                                            ///< the wants the peer last heard from us
};

using link_ptr = std::shared_ptr<link_state>;

void stage_event(link_state& s, const event& e) {
  if (s.sh->lost.load() || s.sh->closed.load()) { // no peer until it rejoins: lost, counted (not held)
    s.sh->lost_events.fetch_add(1);
    return;
  }
  auto& q = s.stages.at(static_cast<std::size_t>(e.priority()));
  if (q.empty() || q.back().events >= s.node->net.batch_events)
    q.emplace_back();
  journal::encode_record(e, q.back().bytes);
  ++q.back().events;
  s.sh->staged.fetch_add(1);
}

void flush(caf::event_based_actor* self, link_state& s) {
  if (!s.remote_link || s.sh->lost.load() || s.sh->closed.load())
    return;
  for (;;) {
    auto it = std::find_if(s.stages.begin(), s.stages.end(), [](const auto& q) { return !q.empty(); });
    if (it == s.stages.end())
      return;
    const auto prio = static_cast<std::uint8_t>(it - s.stages.begin());
    const bool reserved = s.credit == 0;
    if (reserved && (prio != static_cast<std::uint8_t>(priority::risk) || !s.risk_slot))
      return;
    auto batch = std::move(it->front());
    it->pop_front();
    const auto seq = s.next_seq++;
    if (reserved)
      s.risk_slot = false;
    else
      --s.credit;
    s.in_flight.emplace(seq, sent_batch{batch.events, reserved});
    std::string bytes(reinterpret_cast<const char*>(batch.bytes.data()), batch.bytes.size()); // NOLINT: bytes
    self->send(s.remote_link, batch_atom::value, seq, prio, batch.events, std::move(bytes));
    s.sh->staged.fetch_sub(batch.events);
    s.sh->sent.fetch_add(batch.events);
    s.sh->batches_sent.fetch_add(1);
  }
}

/// Decodes a batch; false (nothing published) when any record is damaged.
bool decode_batch(const std::string& bytes, std::vector<event>& out, std::string& why) {
  const std::span<const std::byte> all{reinterpret_cast<const std::byte*>(bytes.data()),
                                       bytes.size()}; // NOLINT: a string's bytes
  for (std::size_t at = 0, size = 0; at < all.size(); at += size) {
    journal::record r;
    if (auto err = journal::decode_record(all.subspan(at), r, size)) {
      why = *err;
      return false;
    }
    out.push_back(std::move(r.ev));
  }
  return true;
}

/// Events received and not yet published (decoded or not): the link's `held` figure.
std::uint64_t held_events(const link_state& s) {
  std::uint64_t n = s.inbox_events;
  for (const auto& h : s.held)
    n += h.size();
  return n;
}

/// Publishes held events, RISK first; acks the batches wholly published. False when some are left
/// (the bus is full).
bool publish_held(caf::event_based_actor* self, link_state& s) {
  // The link's own handle: this actor runs on any worker, and the bus keeps FIFO per handle (with
  // bus::publish_many, per thread: two batches published from two workers could interleave, and a
  // strategy would see the peer's ticks out of order).
  if (!s.pub)
    s.pub.emplace(s.node->b->make_publisher());
  bool all = true;
  for (std::size_t p = 0; p < priority_count; ++p) {
    auto& held = s.held.at(p);
    std::size_t done = 0;
    while (done < held.size()) {
      const auto r = s.pub->publish_many(std::span<const event>{held}.subspan(done));
      for (std::size_t i = done; i < done + r.accepted; ++i)
        s.node->received_by_type.at(static_cast<std::size_t>(held[i].type())).fetch_add(1);
      s.sh->received.fetch_add(r.accepted);
      done += r.accepted;
      if (r.status == publish_status::closed) {
        s.sh->lost_events.fetch_add(held.size() - done); // the run is ending: nothing takes them now
        done = held.size();
      } else if (r.status == publish_status::full) {
        break;
      }
    }
    // Ack every batch whose events are all out of `held` now.
    auto& batches = s.held_batches.at(p);
    std::uint64_t consumed = done;
    while (!batches.empty() && batches.front().second <= consumed) {
      consumed -= batches.front().second;
      if (s.remote_link && batches.front().first != 0)
        self->send(s.remote_link, ack_atom::value, batches.front().first);
      batches.pop_front();
    }
    if (!batches.empty())
      batches.front().second -= consumed;
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(done));
    all = all && held.empty();
  }
  s.sh->held.store(held_events(s));
  return all;
}

/// publish_held(); when the bus is full, tries again shortly (one retry scheduled at a time): the
/// back-pressure reaches the sender as withheld acks.
void publish_or_retry(caf::event_based_actor* self, link_state& s) {
  if (!publish_held(self, s) && !s.retry_scheduled) {
    s.retry_scheduled = true;
    self->delayed_send(self, full_bus_retry, retry_atom::value);
  }
}

void answer_queries(caf::event_based_actor* self, link_state& s) {
  if (!s.remote_link || s.queries.empty())
    return;
  snapshot local;
  {
    std::lock_guard guard{s.node->mu};
    local = s.node->local;
  }
  // Only a snapshot begun after the query arrived answers it (the two-round check needs that).
  auto it = s.queries.begin();
  while (it != s.queries.end()) {
    if (local.epoch > it->second) {
      self->send(s.remote_link, reply_atom::value, it->first, local.done, local.idle, local.sent, local.received);
      it = s.queries.erase(it);
    } else {
      ++it;
    }
  }
}

/// What the peer's loss means here, published on this node's bus with the peer's name as source:
/// GATEWAY_DISCONNECTED per gateway and STRATEGY_STOPPED per strategy it ran, and a
/// CIRCUIT_BREAKER when it ran the risk engine (nothing checks orders any more).
void announce_loss(link_state& s, const std::string& why) {
  auto& node = *s.node;
  if (!s.pub)
    s.pub.emplace(node.b->make_publisher());
  const source_id from{std::string_view{s.sh->peer}};
  auto publish = [&](event e) {
    if (s.pub->publish(std::move(e)) != publish_status::accepted)
      node.log->warn("the bus refused the notice of node '{}''s loss (full or stopping)", s.sh->peer);
  };
  bool ran_risk = false;
  for (const auto& [actor, on] : node.net.actor_nodes) {
    if (on != s.sh->peer)
      continue;
    const auto& type = node.net.actor_types.at(actor);
    const source_id component{std::string_view{actor}};
    if (type.starts_with("gateway."))
      publish(event::create(event_type::gateway_disconnected, from, system{component}));
    else if (type.starts_with("strategy."))
      publish(event::create(event_type::strategy_stopped, from, system{component}));
    ran_risk = ran_risk || type.starts_with("risk.");
  }
  if (ran_risk)
    publish(event::create(
      event_type::circuit_breaker, from,
      risk{risk_rule::circuit_breaker,
           {},
           0,
           0,
           std::make_shared<const std::string>(fmt::format("node '{}' runs the risk engine and was lost: {}; "
                                                           "trading halted",
                                                           s.sh->peer, why))}));
}

void on_lost(caf::event_based_actor* self, link_state& s, const std::string& why) {
  const auto& node = *s.node;
  // This node ending (or every node done): the links close with it.
  const bool ending = node.closing.load() || s.sh->bye.load() || node.finished.load();
  // The peer ended its run in order (it said so first): not a loss, but this node runs on.
  const bool peer_ended = !ending && s.sh->stopping.load();
  if ((ending || peer_ended ? s.sh->closed : s.sh->lost).exchange(true))
    return;
  std::uint64_t lost = s.sh->staged.load();
  for (const auto& [seq, b] : s.in_flight)
    lost += b.events;
  s.in_flight.clear();
  for (auto& q : s.stages)
    q.clear();
  s.sh->staged.store(0);
  if (ending) {
    node.log->info("link to node '{}' closed", s.sh->peer);
    return;
  }
  s.sh->lost_events.fetch_add(lost);
  // Forget this incarnation of the peer: a restarted one has new actors and numbers its batches
  // from 1 again (acks of the old one's batches would credit the new one's).
  if (s.remote_node)
    self->demonitor(s.remote_node);
  if (s.remote_link)
    self->demonitor(s.remote_link);
  s.remote_node = nullptr;
  s.remote_link = nullptr;
  s.told = 0;
  // What arrived from that incarnation is still published here, but never acked to the next one.
  for (auto& batches : s.held_batches)
    for (auto& b : batches)
      b.first = 0;
  for (auto& q : s.inbox)
    for (auto& b : q)
      b.seq = 0;
  s.credit = node.net.window;
  s.risk_slot = true;
  s.attempt = 0;
  s.backoff = first_backoff;
  if (peer_ended) {
    node.log->info("link to node '{}' closed: it ended its run ({} events in flight to it not delivered); it "
                   "rejoins when started again",
                   s.sh->peer, lost);
  } else {
    auto msg =
      fmt::format("node '{}' lost: {} ({} events staged or in flight to it counted as lost)", s.sh->peer, why, lost);
    node.log->error("{}", msg);
    announce_loss(s, why);
    if (node.net.on_node_loss == core::node_loss_policy::cont)
      node.log->info("on_node_loss: continue: waiting for node '{}' to rejoin", s.sh->peer);
    if (node.cb.node_lost)
      node.cb.node_lost(msg);
  }
  // It may come back (restarted, the network healed): the dialling side dials it again (under
  // halt this node is ending anyway).
  if (s.dialer && (peer_ended || node.net.on_node_loss == core::node_loss_policy::cont))
    self->delayed_send(self, first_backoff, dial_atom::value);
  s.node->wake();
}

/// The peer is up again after a loss or its orderly end (a new incarnation said hello).
void on_rejoined(link_state& s) {
  const bool was_lost = s.sh->lost.exchange(false);
  const bool was_closed = s.node->closing.load() ? false : s.sh->closed.exchange(false);
  s.sh->stopping.store(false);
  if (was_lost || was_closed)
    s.node->log->info("node '{}' rejoined", s.sh->peer);
}

/// Subscribes this link, on the local bus, to exactly the types in mask (the peer's actors' wants).
/// Order against node_actor's watch (which reads link_subs, then the bus's counts): the bus
/// first on subscribe, link_subs first on unsubscribe, so that a watch in between can only
/// count a link subscription as the node's own (a want that the next look corrects), never the
/// other way (a want lost for a moment).
void apply_wants(caf::event_based_actor* self, link_state& s, std::uint32_t mask) {
  auto& node = *s.node;
  const auto me = caf::actor_cast<caf::actor>(self);
  // Only what started on this node crosses: an event that came from a peer is never shipped on
  // (no echo, no loops).
  filter local_only = [remote = node.remote_sources](const event& e) {
    return remote->find(e.source().view()) == remote->end();
  };
  for (auto t : all_event_types) {
    const auto i = static_cast<std::size_t>(t);
    const bool want = (mask & type_bit(t)) != 0;
    auto& sub = s.subs.at(i);
    if (want && !sub) {
      sub = node.b->subscribe(t, me, local_only);
      node.link_subs.at(i).fetch_add(1);
    } else if (!want && sub) {
      node.link_subs.at(i).fetch_sub(1);
      (void)node.b->unsubscribe(*sub);
      sub.reset();
    }
  }
  s.sh->wants.store(mask);
}

/// Tells the peer what this node's actors want, when that changed since it last heard.
void tell_wants(caf::event_based_actor* self, link_state& s) {
  const auto now = s.node->wants.load();
  if (!s.remote_link || s.told == now || s.sh->lost.load() || s.sh->closed.load())
    return;
  s.told = now;
  self->send(s.remote_link, wants_atom::value, now);
}

/// Dialling failed (why: already rendered): log it, dial again after the backoff, double the backoff.
void redial(caf::event_based_actor* self, link_state& s, int attempt, const std::string& why,
            spdlog::level::level_enum level = spdlog::level::info) {
  s.node->log->log(level, "node '{}' at {}:{} not reachable yet (attempt {}: {}); retrying in {} ms", s.sh->peer,
                   s.sh->host, s.sh->port, attempt, why, s.backoff.count());
  self->delayed_send(self, s.backoff, dial_atom::value);
  s.backoff = std::min(s.backoff * 2, max_backoff);
}

caf::behavior link_actor(caf::event_based_actor* self, link_ptr s) {
  // CAF 0.17 keeps a down handler until the actor object is destroyed (its behavior is dropped at
  // termination): a strong `s` here would close a cycle actor -> s -> node -> links -> actor and
  // leak both, and the middleman's proxies with them.
  self->set_down_handler([self, weak = std::weak_ptr<link_state>{s}](caf::down_msg& dm) {
    auto ls = weak.lock();
    if (!ls)
      return;
    // The peer's node actor shut down in order: its link's own end follows, after the "ending its
    // run" notice that link may still be sending (one actor, one connection: FIFO), so the
    // verdict waits for it. Its node actor's end could overtake that notice (two actors).
    if (dm.source == ls->remote_node.address() && dm.reason == caf::exit_reason::user_shutdown && ls->remote_link)
      return;
    if (dm.source == ls->remote_node.address() || dm.source == ls->remote_link.address())
      on_lost(self, *ls, self->system().render(dm.reason));
  });
  return {
    [self, s](delivery& d) {
      d.consume([&s](const event& e) { stage_event(*s, e); });
      flush(self, *s);
    },
    [self, s](dial_atom) {
      if (s->remote_node || s->node->closing.load() || s->node->finished.load())
        return;
      const auto attempt = ++s->attempt;
      const auto& sh = *s->sh;
      auto retry = [self, s, attempt](const std::string& why) { redial(self, *s, attempt, why); };
      self->request(s->prober, tcp_probe_timeout * 4, probe_atom::value, sh.host, sh.port)
        .then(
          [self, attempt, retry](bool reachable) {
            if (reachable)
              self->send(self, connect_atom::value, attempt);
            else
              retry(fmt::format("no TCP connection: refused, or no answer within {} ms", tcp_probe_timeout.count()));
          },
          [self, retry](caf::error& err) { retry(self->system().render(err)); });
    },
    [self, s](connect_atom, int attempt) {
      if (s->remote_node || s->node->closing.load() || s->node->finished.load())
        return;
      const auto& sh = *s->sh;
      // With TLS, the openssl manager's handle: the same requests, over a verified TLS session.
      const auto& mm =
        s->node->net.tls ? self->system().openssl_manager().actor_handle() : self->system().middleman().actor_handle();
      self->request(mm, connect_request_timeout, caf::connect_atom::value, sh.host, sh.port)
        .then(
          [self, s, attempt](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (!ptr) {
              redial(self, *s, attempt, "no node actor there", spdlog::level::warn);
              return;
            }
            s->remote_node = caf::actor_cast<caf::actor>(ptr);
            self->monitor(s->remote_node);
            s->node->log->info("connected to node '{}' at {}:{} (attempt {})", s->sh->peer, s->sh->host, s->sh->port,
                               attempt);
            s->told = s->node->wants.load();
            self->send(s->remote_node, hello_atom::value, s->node->name, s->told);
          },
          [self, s, attempt](caf::error& err) {
            // CAF says no more than this when a TLS handshake fails (either side refused the other's
            // certificate): name the likely cause.
            const bool handshake = s->node->net.tls && err == caf::sec::disconnect_during_handshake;
            redial(self, *s, attempt,
                   self->system().render(err)
                     + (handshake ? ": the TLS handshake failed: a certificate was refused (each node's must be "
                                    "signed by network.tls.ca) or the peer does not speak TLS"
                                  : ""));
          });
    },
    [self, s](peer_hello_atom, std::uint32_t wants, const caf::actor& remote) {
      if (!remote)
        return; // a peer link that is gone already (see the node actor's hello handler)
      if (!s->remote_link) {
        s->remote_link = remote;
        self->monitor(remote);
      }
      on_rejoined(*s);
      if (!s->subscribed || s->sh->wants.load() != wants) {
        s->subscribed = true;
        apply_wants(self, *s, wants);
        s->node->log->info("node '{}' wants {}", s->sh->peer, mask_names(wants));
      }
      self->send(remote, hello_ack_atom::value);
      if (!s->dialer) { // the peer dialled: our wants go straight back to its link
        s->told = s->node->wants.load();
        self->send(remote, peer_hello_atom::value, s->told, caf::actor_cast<caf::actor>(self));
      }
      s->sh->hello_in.store(true);
      s->node->wake();
      flush(self, *s);
    },
    [self, s](hello_ack_atom) {
      if (self->current_sender() == nullptr)
        return; // from a peer link that is gone already
      if (!s->remote_link) {
        s->remote_link = caf::actor_cast<caf::actor>(self->current_sender());
        self->monitor(s->remote_link);
      }
      s->sh->ack_in.store(true);
      s->node->wake();
    },
    [self, s](batch_atom, std::uint64_t seq, std::uint8_t prio, std::uint32_t events, std::string& bytes) {
      s->sh->batches_received.fetch_add(1);
      if (prio >= priority_count) {
        s->sh->bad_batches.fetch_add(1);
        s->node->log->warn("batch {} from node '{}' has no priority {}; dropped", seq, s->sh->peer, prio);
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), ack_atom::value, seq);
        return;
      }
      s->inbox.at(prio).push_back(in_batch{seq, events, std::move(bytes)});
      s->inbox_events += events;
      s->sh->held.store(held_events(*s));
      if (!s->drain_scheduled) {
        s->drain_scheduled = true;
        self->send(self, drain_atom::value);
      }
    },
    [self, s](drain_atom) {
      s->drain_scheduled = false;
      auto q = std::find_if(s->inbox.begin(), s->inbox.end(), [](const auto& b) { return !b.empty(); });
      if (q != s->inbox.end()) {
        const auto p = static_cast<std::size_t>(q - s->inbox.begin());
        const auto batch = std::move(q->front());
        q->pop_front();
        s->inbox_events -= batch.events;
        std::vector<event> evs;
        std::string why;
        if (!decode_batch(batch.bytes, evs, why)) {
          // Counted, logged, dropped; the link goes on (and credit comes back to the sender).
          s->sh->bad_batches.fetch_add(1);
          s->node->log->warn("batch {} from node '{}' does not decode ({}); dropped", batch.seq, s->sh->peer, why);
          if (s->remote_link && batch.seq != 0)
            self->send(s->remote_link, ack_atom::value, batch.seq);
        } else {
          s->held_batches.at(p).emplace_back(batch.seq, evs.size());
          auto& held = s->held.at(p);
          held.insert(held.end(), std::make_move_iterator(evs.begin()), std::make_move_iterator(evs.end()));
        }
        if (std::any_of(s->inbox.begin(), s->inbox.end(), [](const auto& b) { return !b.empty(); })) {
          s->drain_scheduled = true;
          self->send(self, drain_atom::value);
        }
      }
      publish_or_retry(self, *s);
    },
    [self, s](retry_atom) {
      s->retry_scheduled = false;
      publish_or_retry(self, *s);
    },
    [self, s](ack_atom, std::uint64_t seq) {
      if (auto it = s->in_flight.find(seq); it != s->in_flight.end()) {
        s->sh->acked.fetch_add(it->second.events);
        if (it->second.reserved)
          s->risk_slot = true;
        else
          ++s->credit;
        s->in_flight.erase(it);
      }
      flush(self, *s);
    },
    [self, s](query_atom, std::uint64_t round) {
      s->queries.emplace_back(round, s->node->epoch.load());
      answer_queries(self, *s);
    },
    [self, s](poke_atom) { answer_queries(self, *s); },
    [self, s](ask_atom, std::uint64_t round) {
      if (s->remote_link)
        self->send(s->remote_link, query_atom::value, round);
    },
    [s](reply_atom, std::uint64_t round, bool done, bool idle, std::uint64_t sent, std::uint64_t received) {
      auto& node = *s->node;
      {
        std::lock_guard guard{node.mu};
        if (!node.round_open || round != node.round)
          return;
        auto& snap = node.round_snaps.at(s->index + 1);
        snap = snapshot{1, done, idle, sent, received};
      }
      node.wake();
    },
    [self, s](wants_atom, std::uint32_t wants) {
      // The peer's actors subscribed or unsubscribed since the hello.
      if (wants == s->sh->wants.load())
        return;
      apply_wants(self, *s, wants);
      s->node->log->info("node '{}' now wants {}", s->sh->peer, mask_names(wants));
    },
    [self, s](sync_atom) { tell_wants(self, *s); },
    [self, s](stopping_atom) {
      if (self->current_sender() == nullptr) { // from this node's closing(): tell the peer
        if (s->remote_link)
          self->send(s->remote_link, stopping_atom::value);
        return;
      }
      // An orderly end (its summary follows), not a loss: no notices, no policy.
      s->sh->stopping.store(true);
      s->node->log->info("node '{}' is ending its run", s->sh->peer);
    },
    [self, s](bye_atom) {
      if (self->current_sender() == nullptr) { // from this node's poll(): tell the peer
        if (s->remote_link)
          self->send(s->remote_link, bye_atom::value);
        return;
      }
      s->sh->bye.store(true);
      s->node->finished.store(true); // a peer saw every node done: so is this one
      s->node->wake();
    },
  };
}

/// The types this node's actors subscribe to now: the bus's subscriptions but the runtime's own
/// and the links' (read first: see apply_wants).
std::uint32_t current_wants(const node_state& st) {
  std::array<std::size_t, event_type_count> links{};
  for (std::size_t i = 0; i < links.size(); ++i)
    links.at(i) = st.link_subs.at(i).load();
  const auto counts = st.b->subscription_counts();
  std::uint32_t mask = 0;
  for (auto t : all_event_types) {
    const auto i = static_cast<std::size_t>(t);
    if (counts.at(i) > st.baseline->at(i) + links.at(i))
      mask |= type_bit(t);
  }
  return mask;
}

caf::behavior node_actor(caf::event_based_actor* self, std::shared_ptr<node_state> st) {
  // Subscriptions made or removed after the links came up (a handler that subscribes later):
  // looked at every watch_interval, told to the peers once the same on two looks.
  auto seen = std::make_shared<std::uint32_t>(st->wants.load());
  if (st->baseline)
    self->delayed_send(self, watch_interval, watch_atom::value);
  return {
    [self, st](hello_atom, const std::string& from, std::uint32_t wants) {
      if (self->current_sender() == nullptr) {
        // CAF could not make a proxy for the sender: its connection ended as the hello came (the
        // peer dials again). Its null handle, passed on, crashed the link (monitor of nothing).
        st->log->info("hello from node '{}', whose connection already ended: ignored", from);
        return;
      }
      for (const auto& l : st->links)
        if (l->peer == from) {
          self->send(caf::actor_cast<caf::actor>(l->actor), peer_hello_atom::value, wants,
                     caf::actor_cast<caf::actor>(self->current_sender()));
          return;
        }
      st->log->warn("hello from node '{}', which is not a peer of this node in the topology: ignored", from);
    },
    [self, st, seen](watch_atom) {
      if (st->closing.load())
        return;
      const auto now = current_wants(*st);
      if (now == *seen && now != st->wants.load()) {
        st->wants.store(now);
        st->log->info("this node's actors now want {}", mask_names(now));
      }
      *seen = now;
      for (const auto& l : st->links)
        self->send(caf::actor_cast<caf::actor>(l->actor), sync_atom::value);
      self->delayed_send(self, watch_interval, watch_atom::value);
    },
  };
}

} // namespace

void node::configure(caf::actor_system_config& cfg, const core::network_spec& net, const std::string& name) {
  cfg.load<caf::io::middleman>();
  if (net.tls) {
    // Any of these settings makes CAF verify the peer (SSL_VERIFY_PEER, and FAIL_IF_NO_PEER_CERT):
    // both sides present a certificate and check the other's against the CA.
    cfg.load<caf::openssl::manager>();
    const auto* self = net.find(name);
    const bool own = self != nullptr && !self->certificate.empty();
    cfg.openssl_certificate = (own ? self->certificate : net.tls->certificate).string();
    cfg.openssl_key = (own ? self->key : net.tls->key).string();
    cfg.openssl_cafile = net.tls->ca.string();
    cfg.openssl_passphrase = net.tls->passphrase;
  }
  // Both on every node: a lost peer, a silent one included, is seen within timeout + one interval.
  cfg.set("middleman.heartbeat-interval", caf::timespan{net.heartbeat_interval});
  cfg.set("middleman.connection-timeout", caf::timespan{net.heartbeat_timeout});
}

node::node(caf::actor_system& sys, bus& b, const core::network_spec& net, std::string name, std::uint32_t wants,
           node_callbacks cb, std::optional<std::array<std::size_t, event_type_count>> baseline)
  : st_{std::make_shared<node_state>()} {
  st_->sys = &sys;
  st_->b = &b;
  st_->net = net;
  st_->name = std::move(name);
  st_->wants.store(wants);
  st_->baseline = baseline;
  st_->cb = std::move(cb);
  st_->log = spdlog::default_logger()->clone("libra.net");
  auto remote = std::make_shared<std::set<std::string, std::less<>>>();
  for (const auto& [actor, on] : net.actor_nodes)
    if (on != st_->name)
      remote->insert(actor);
  // The notices of a lost node carry its name as source: each node publishes its own.
  for (const auto& n : net.nodes)
    if (n.name != st_->name && !net.actor_nodes.contains(n.name))
      remote->insert(n.name);
  st_->remote_sources = std::move(remote);
  for (const auto* p : net.peers_of(st_->name)) {
    auto l = std::make_unique<link_shared>();
    l->peer = p->name;
    l->host = p->host;
    l->port = p->port;
    st_->links.push_back(std::move(l));
  }
  st_->round_snaps.resize(st_->links.size() + 1);
  for (std::size_t i = 0; i < st_->links.size(); ++i) {
    auto ls = std::make_shared<link_state>();
    ls->node = st_;
    ls->sh = st_->links[i].get();
    ls->index = i;
    ls->dialer = st_->name < st_->links[i]->peer;
    if (ls->dialer) {
      if (!prober_)
        prober_ = sys.spawn<caf::detached>(prober_actor, tcp_probe_timeout);
      ls->prober = prober_;
    }
    ls->credit = net.window;
    link_actors_.push_back(sys.spawn(link_actor, ls));
    st_->links[i]->actor = link_actors_.back().address();
  }
  node_actor_ = sys.spawn(node_actor, st_);
}

node::~node() {
  st_->closing.store(true);
  for (auto& a : link_actors_)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(node_actor_, caf::exit_reason::user_shutdown);
  if (prober_)
    caf::anon_send_exit(prober_, caf::exit_reason::user_shutdown);
}

std::optional<std::string> node::listen() {
  const auto* self = st_->net.find(st_->name);
  // reuse: a node restarted at once finds its port in TIME_WAIT (docs/caf-0.17.md, 7).
  auto port = st_->net.tls ? caf::openssl::publish(node_actor_, self->port, self->host.c_str(), true)
                           : st_->sys->middleman().publish(node_actor_, self->port, self->host.c_str(), true);
  if (!port)
    return fmt::format("node '{}' cannot listen on {}:{}: {} (is the port in use?)", st_->name, self->host, self->port,
                       st_->sys->render(port.error()));
  st_->log->info("node '{}' listening on {}:{}{}", st_->name, self->host, *port,
                 st_->net.tls ? " (TLS, peers verified against " + st_->net.tls->ca.string() + ")"
                              : (self->loopback() ? "" : " (plain TCP: network.insecure)"));
  return std::nullopt;
}

bool node::wait_connected(const std::function<bool()>& cancelled) {
  for (auto& l : st_->links)
    if (st_->name < l->peer) // the other side dials this node (link_state::dialer)
      caf::anon_send(caf::actor_cast<caf::actor>(l->actor), dial_atom::value);
  const auto deadline = std::chrono::steady_clock::now() + st_->net.connect_timeout;
  std::unique_lock lock{st_->mu};
  for (;;) {
    const bool all = std::all_of(st_->links.begin(), st_->links.end(),
                                 [](const auto& l) { return l->hello_in.load() && l->ack_in.load(); });
    if (all)
      return true;
    // A peer lost during the handshake will not complete it.
    const bool lost = std::any_of(st_->links.begin(), st_->links.end(), [](const auto& l) { return l->lost.load(); });
    if (lost || cancelled() || std::chrono::steady_clock::now() >= deadline)
      return false;
    st_->cv.wait_for(lock, std::chrono::milliseconds{50});
  }
}

std::vector<std::string> node::unreachable() const {
  std::vector<std::string> out;
  for (const auto& l : st_->links)
    if (!(l->hello_in.load() && l->ack_in.load()))
      out.push_back(fmt::format("'{}' ({}:{})", l->peer, l->host, l->port));
  return out;
}

void node::poll() {
  auto& st = *st_;
  if (st.finished.load())
    return;
  // 1. A complete round: every node done and idle, sent == received summed over nodes, and the
  //    same figures as the previous round (so nothing moved in between): every node's data is done.
  {
    std::lock_guard guard{st.mu};
    if (st.round_open) {
      bool complete = true;
      for (std::size_t i = 0; i < st.links.size(); ++i)
        complete = complete && (st.links[i]->lost.load() || st.round_snaps[i + 1].epoch != 0);
      if (complete) {
        st.round_open = false;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        bool quiet = true;
        for (const auto& s : st.round_snaps) {
          quiet = quiet && s.done && s.idle;
          sent += s.sent;
          received += s.received;
        }
        const bool same = st.last_round.size() == st.round_snaps.size()
                          && std::equal(st.round_snaps.begin(), st.round_snaps.end(), st.last_round.begin());
        st.last_round = st.round_snaps;
        if (quiet && sent == received && same)
          st.finished.store(true);
      }
    }
  }
  if (st.finished.load()) {
    st.log->info("every node's data is done and nothing is in flight: ending");
    for (auto& l : st.links)
      caf::anon_send(caf::actor_cast<caf::actor>(l->actor), bye_atom::value);
    st.wake();
    return;
  }
  // 2. This node's snapshot, begun after the last round completed.
  const auto epoch = st.epoch.fetch_add(1) + 1;
  const auto s1 = st.total_sent();
  const auto r1 = st.total_received();
  bool idle = st.b->wait_idle(idle_probe);
  for (const auto& l : st.links)
    idle = idle && l->staged.load() == 0 && l->held.load() == 0;
  const auto s2 = st.total_sent();
  const auto r2 = st.total_received();
  snapshot snap{epoch, true, idle && s1 == s2 && r1 == r2, s2, r2};
  bool new_round = false;
  {
    std::lock_guard guard{st.mu};
    st.local = snap;
    if (!st.round_open) {
      new_round = true;
      ++st.round;
      st.round_open = true;
      std::fill(st.round_snaps.begin(), st.round_snaps.end(), snapshot{});
      st.round_snaps[0] = snap;
    }
  }
  const auto round = st.round;
  for (auto& l : st.links) {
    caf::anon_send(caf::actor_cast<caf::actor>(l->actor), poke_atom::value);
    if (new_round)
      caf::anon_send(caf::actor_cast<caf::actor>(l->actor), ask_atom::value, round);
  }
}

bool node::finished() const { return st_->finished.load(); }

void node::closing() {
  // Peers hear it before the connection ends (one connection, FIFO): the end is not a loss to them.
  if (!st_->closing.exchange(true))
    for (auto& l : st_->links)
      caf::anon_send(caf::actor_cast<caf::actor>(l->actor), stopping_atom::value);
}

std::vector<link_stats> node::stats() const {
  std::vector<link_stats> out;
  for (const auto& l : st_->links) {
    link_stats s;
    s.peer = l->peer;
    s.lost = l->lost.load();
    s.up = l->hello_in.load() && l->ack_in.load() && !s.lost;
    s.closed = l->closed.load();
    s.sent = l->sent.load();
    s.acked = l->acked.load();
    s.received = l->received.load();
    s.batches_sent = l->batches_sent.load();
    s.batches_received = l->batches_received.load();
    s.lost_events = l->lost_events.load();
    s.bad_batches = l->bad_batches.load();
    s.held = l->held.load();
    s.wants = l->wants.load();
    out.push_back(std::move(s));
  }
  return out;
}

std::array<std::uint64_t, event_type_count> node::received_by_type() const {
  std::array<std::uint64_t, event_type_count> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out.at(i) = st_->received_by_type.at(i).load();
  return out;
}

void node::print_summary(std::FILE* out) const {
  for (const auto& l : stats())
    fmt::print(out,
               "link {} -> {:<8} {}: sent {} (acked {}) in {} batches, received {} in {} batches, lost {}, bad "
               "batches {}; peer wants {}\n",
               st_->name, l.peer, l.lost ? "lost" : (l.closed ? "closed" : (l.up ? "up" : "down")), l.sent, l.acked,
               l.batches_sent, l.received, l.batches_received, l.lost_events, l.bad_batches, mask_names(l.wants));
}

void node::json(json_writer& w) const {
  w.begin_object().field("name", st_->name).key("links").begin_array();
  for (const auto& l : stats())
    w.begin_object()
      .field("peer", l.peer)
      .field("up", l.up)
      .field("lost", l.lost)
      .field("sent", l.sent)
      .field("acked", l.acked)
      .field("received", l.received)
      .field("batches_sent", l.batches_sent)
      .field("batches_received", l.batches_received)
      .field("lost_events", l.lost_events)
      .field("bad_batches", l.bad_batches)
      .end();
  w.end().key("received_by_type").begin_object();
  const auto rx = received_by_type();
  for (auto t : all_event_types)
    w.field(to_string(t), rx.at(static_cast<std::size_t>(t)));
  w.end().end();
}

} // namespace libra::net
