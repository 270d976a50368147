#include "broker.hpp"

#include "bus_core.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <unordered_map>

namespace libra::detail {

namespace {

constexpr std::size_t pull_chunk = 256;        // events moved from a stage per bulk dequeue
constexpr std::size_t orphan_chunk = 4096;     // events with no subscriber released per round
constexpr int max_rounds = 64;                 // rounds per message before the broker yields
constexpr int max_repumps = 8;                 // re-pumps for events that raced the wake flags
constexpr std::uint32_t conflating_window = 2; // MARKET_DATA credit of a conflating subscriber

/// One priority's events, from the oldest not yet released by every interested endpoint, by
/// position. A ring that doubles when full and keeps its storage: the hot path allocates nothing
/// (a std::deque of these allocated and freed a block every 3 events).
class local_queue {
public:
  /// Appends, for moodycamel's dequeue_bulk (`*it = std::move(item); ++it`).
  class appender {
  public:
    explicit appender(local_queue& q) : q_{&q} {}
    appender& operator*() { return *this; }
    appender& operator=(staged&& s) {
      q_->push(std::move(s));
      return *this;
    }
    appender& operator++() { return *this; }
    appender operator++(int) { return *this; }

  private:
    local_queue* q_;
  };

  [[nodiscard]] std::uint64_t base() const noexcept { return base_; }
  [[nodiscard]] std::uint64_t end() const noexcept { return base_ + size_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] staged& at(std::uint64_t pos) noexcept { return *buf_[(first_ + (pos - base_)) & (buf_.size() - 1)]; }

  void push(staged&& s) {
    if (size_ == buf_.size())
      grow();
    buf_[(first_ + size_) & (buf_.size() - 1)].emplace(std::move(s));
    ++size_;
  }
  /// Destroys the n oldest events.
  void pop(std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
      buf_[(first_ + i) & (buf_.size() - 1)].reset();
    first_ = (first_ + n) & (buf_.size() - 1);
    size_ -= n;
    base_ += n;
  }

private:
  void grow() {
    std::vector<std::optional<staged>> next(std::max<std::size_t>(64, buf_.size() * 2));
    for (std::size_t i = 0; i < size_; ++i)
      next[i] = std::move(buf_[(first_ + i) & (buf_.size() - 1)]);
    buf_ = std::move(next);
    first_ = 0;
  }

  std::vector<std::optional<staged>> buf_; // size: 0 or a power of two
  std::size_t first_ = 0;                  // index of the oldest
  std::size_t size_ = 0;
  std::uint64_t base_ = 0; // position of the oldest
};

/// One (type, instrument) stream of market data, for conflation.
struct stream_key {
  event_type type = event_type::tick;
  instrument_id instrument;
  bool operator==(const stream_key&) const = default;
};

struct stream_key_hash {
  std::size_t operator()(const stream_key& k) const noexcept {
    return std::hash<instrument_id>{}(k.instrument) * 31 + static_cast<std::size_t>(k.type);
  }
};

stream_key key_of(const event& e) {
  switch (e.type()) {
    case event_type::bar:
      return {e.type(), e.get<bar>().instrument};
    case event_type::order_book:
      return {e.type(), e.get<order_book_ptr>()->instrument};
    default:
      return {e.type(), e.get<tick>().instrument}; // subscribe() allows conflation for these 3 only
  }
}

/// What a conflating endpoint is behind on: the newest MARKET_DATA event per stream, linked in
/// the order of their last update. Bounded by the number of streams; allocates only for a new
/// stream (a std::map keyed by update order allocated and freed a node per event).
struct held_events {
  struct entry {
    event ev;
    std::int64_t admitted_ns;
    const subscription_state* sub;
    stream_key key;
    entry* prev = nullptr; // older update (unordered_map nodes never move: the links stay valid)
    entry* next = nullptr; // newer update
  };
  std::unordered_map<stream_key, entry, stream_key_hash> latest;
  entry* oldest = nullptr;
  entry* newest = nullptr;

  [[nodiscard]] bool empty() const noexcept { return latest.empty(); }
  void clear() {
    latest.clear();
    oldest = nullptr;
    newest = nullptr;
  }
  void unlink(entry& e) noexcept {
    (e.prev != nullptr ? e.prev->next : oldest) = e.next;
    (e.next != nullptr ? e.next->prev : newest) = e.prev;
    e.prev = nullptr;
    e.next = nullptr;
  }
  void append(entry& e) noexcept {
    e.prev = newest;
    e.next = nullptr;
    (newest != nullptr ? newest->next : oldest) = &e;
    newest = &e;
  }
  void erase(entry& e) {
    unlink(e);
    const auto key = e.key; // e dies with the node
    latest.erase(key);
  }
};

struct endpoint_state {
  endpoint_record rec;
  std::uint32_t mask = 0; // types this endpoint subscribed to
  std::array<std::uint64_t, priority_count> cursor{};
  bool conflates = false;     // a subscription with conflation::by_instrument
  bool behind_writer = false; // write-ahead: gets events only up to core->ahead_through
  held_events held;           // conflates: what it is behind on
  [[nodiscard]] bool wants(std::size_t p) const noexcept { return (mask & types_of(static_cast<priority>(p))) != 0; }
};

struct broker_state;
void retire_all(broker_state& st);

struct broker_state {
  broker_state() = default; // user-declared: CAF must not aggregate-init this from the actor pointer
  broker_state(const broker_state&) = delete;
  broker_state& operator=(const broker_state&) = delete;
  broker_state(broker_state&&) = delete;
  broker_state& operator=(broker_state&&) = delete;
  // Subscribers may still run what their rings hold after the broker has gone (deliveries on
  // their way): the slots point at the subscriptions, so their channels keep them from now on.
  ~broker_state() { retire_all(*this); }

  std::shared_ptr<bus_core> core;
  std::array<local_queue, priority_count> q;
  std::vector<endpoint_state> eps;
  std::array<std::size_t, priority_count> readers{}; // endpoints interested per priority
  std::array<std::optional<moodycamel::ConsumerToken>, priority_count> tokens;
  std::uint64_t version = 0;
  std::size_t rr = 0; // round-robin start among endpoints
  bool started = false;
  bool aborted = false;
  // Set when a pull saw a registry change: dispatch stops until refresh(); new endpoints start
  // at fresh_start (before the events of that pull, which may postdate the subscription).
  bool stale = false;
  std::array<std::uint64_t, priority_count> fresh_start{};
  std::optional<reply_slot> drain;
  std::vector<reply_slot> idle_waiters;
  // Channels of endpoints gone from the registry whose rings still held events: quiet waits for
  // them too (a handler of a subscription removed meanwhile may still be running).
  // (Until their actor goes: a dead actor runs nothing more.)
  struct gone_endpoint {
    caf::actor_addr actor;
    std::shared_ptr<endpoint_channel> channel;
  };
  std::vector<gone_endpoint> gone;
  // Set by a pull that moved events into q: a round that only pulled (for an endpoint later in
  // the round, or one whose types they are not) made progress, or they would wait for no wake.
  bool pulled = false;
};

using broker_actor = caf::stateful_actor<broker_state>;

/// Keeps a removed subscription alive while the rings may still hold events that point at it.
void retire(endpoint_channel& ch, std::shared_ptr<subscription_state> sub) {
  endpoint_channel::retired_sub r{{}, std::move(sub)};
  for (std::size_t p = 0; p < priority_count; ++p)
    r.end[p] = ch.rings[p].tail.load(std::memory_order_relaxed);
  ch.retired.push_back(std::move(r));
}

void retire_all(broker_state& st) {
  for (auto& ep : st.eps)
    if (ep.rec.channel)
      for (auto& sub : ep.rec.subs)
        retire(*ep.rec.channel, std::move(sub));
}

void prune(endpoint_channel& ch) {
  if (ch.retired.empty())
    return;
  std::array<std::uint64_t, priority_count> head{};
  for (std::size_t p = 0; p < priority_count; ++p)
    head[p] = ch.rings[p].head.load(std::memory_order_acquire);
  std::erase_if(ch.retired, [&](const endpoint_channel::retired_sub& s) {
    for (std::size_t p = 0; p < priority_count; ++p)
      if (head[p] < s.end[p])
        return false;
    return true;
  });
}

void refresh(broker_actor* self) {
  auto& st = self->state;
  if (!st.stale) {
    if (st.core->registry_version() == st.version)
      return;
    for (std::size_t p = 0; p < priority_count; ++p)
      st.fresh_start[p] = st.q[p].end();
  }
  st.stale = false;
  std::vector<endpoint_record> recs;
  st.version = st.core->snapshot(recs);
  std::vector<endpoint_state> next;
  next.reserve(recs.size());
  for (auto& rec : recs) {
    auto old = std::find_if(st.eps.begin(), st.eps.end(), [&](const endpoint_state& e) { return e.rec.id == rec.id; });
    endpoint_state ep;
    std::uint32_t old_mask = 0;
    if (old != st.eps.end()) {
      ep = std::move(*old);
      old_mask = ep.mask;
      for (auto& sub : ep.rec.subs)
        if (std::find(rec.subs.begin(), rec.subs.end(), sub) == rec.subs.end())
          retire(*ep.rec.channel, std::move(sub));
    } else {
      self->monitor(rec.actor); // its rings (rec.channel) the registry made with the endpoint
    }
    ep.rec = std::move(rec);
    prune(*ep.rec.channel);
    ep.mask = 0;
    ep.conflates = false;
    ep.behind_writer =
      st.core->ahead.load(std::memory_order_acquire) && ep.rec.actor.address() != st.core->ahead_writer;
    for (const auto& sub : ep.rec.subs) {
      ep.mask |= type_bit(sub->type);
      ep.conflates = ep.conflates || sub->conflate == conflation::by_instrument;
    }
    // Held events of removed subscriptions are never run (they would be skipped as inactive).
    for (auto it = ep.held.latest.begin(); it != ep.held.latest.end();) {
      const auto* sub = it->second.sub;
      if (std::none_of(ep.rec.subs.begin(), ep.rec.subs.end(), [&](const auto& s) { return s.get() == sub; })) {
        ep.held.unlink(it->second);
        it = ep.held.latest.erase(it);
      } else {
        ++it;
      }
    }
    for (std::size_t p = 0; p < priority_count; ++p) {
      const auto prio_types = types_of(static_cast<priority>(p));
      if ((old_mask & prio_types) == 0 && (ep.mask & prio_types) != 0)
        ep.cursor[p] = st.fresh_start[p]; // newly interested in this priority
    }
    next.push_back(std::move(ep));
  }
  // Endpoints gone from the registry: their rings may still hold events (run, or skipped as
  // inactive, by wake messages already sent, which keep the channel alive).
  auto done = [](const endpoint_channel& ch) {
    return std::all_of(ch.rings.begin(), ch.rings.end(), [](const handoff_ring& r) { return r.in_flight() == 0; });
  };
  std::erase_if(st.gone, [&](const auto& g) { return done(*g.channel); }); // else check_quiet prunes them
  for (const auto& ep : st.eps) // the kept endpoints were moved out: only the gone ones are left
    if (ep.rec.channel && !done(*ep.rec.channel))
      st.gone.push_back({ep.rec.actor.address(), ep.rec.channel});
  retire_all(st);
  st.eps = std::move(next);
  st.readers.fill(0);
  for (const auto& ep : st.eps)
    for (std::size_t p = 0; p < priority_count; ++p)
      st.readers[p] += ep.wants(p) ? 1 : 0;
}

/// Moves up to max events from stage p into the local queue; false when none came.
bool pull(broker_state& st, std::size_t p, std::size_t max) {
  auto& lq = st.q[p];
  const auto before = lq.end();
  const auto n = st.core->stages[p].try_dequeue_bulk(*st.tokens[p], local_queue::appender{lq}, max);
  st.pulled = st.pulled || n > 0;
  if (n > 0 && !st.stale && st.core->registry_version() != st.version) {
    st.stale = true;
    for (std::size_t i = 0; i < priority_count; ++i)
      st.fresh_start[i] = st.q[i].end();
    st.fresh_start[p] = before;
  }
  return n > 0;
}

/// The endpoint's first subscription that takes e, or nullptr.
const subscription_state* match(broker_state& st, const endpoint_state& ep, const event& e) {
  for (const auto& ptr : ep.rec.subs) {
    const auto& sub = *ptr;
    if (sub.type != e.type() || e.sequence() < sub.from_seq)
      continue;
    if (!sub.flt)
      return &sub;
    try {
      if (sub.flt(e))
        return &sub;
    } catch (...) {
      report_filter_error(*st.core, sub, e, std::current_exception());
    }
  }
  return nullptr;
}

/// Writes up to limit events of priority p for ep into ring, FIFO, and publishes them; returns
/// how many.
std::uint32_t fill(broker_state& st, endpoint_state& ep, handoff_ring& ring, std::uint32_t limit, std::size_t p) {
  if (st.stale)
    return 0;                                               // the registry changed: refresh() first
  const auto t = ring.tail.load(std::memory_order_relaxed); // ours
  std::uint32_t n = 0;
  auto& lq = st.q[p];
  // The sole reader may take the event instead of copying it: nobody else will read it.
  const bool sole = st.readers[p] == 1;
  auto& cur = ep.cursor[p];
  // Write-ahead: nothing the writer has not made safe (FIFO within the priority: an event waits
  // behind one with a higher number, never the other way).
  const auto through = ep.behind_writer ? st.core->ahead_through.load(std::memory_order_acquire) : UINT64_MAX;
  while (n < limit) {
    if (cur == lq.end() && (!pull(st, p, pull_chunk) || st.stale))
      break;
    auto& s = lq.at(cur);
    if (s.ev.sequence() > through)
      break; // the writer's confirmation wakes the broker
    ++cur;
    if ((ep.mask & type_bit(s.ev.type())) == 0)
      continue;
    const auto* sub = match(st, ep, s.ev);
    if (sub == nullptr)
      continue;
    auto& slot = ring.at(t + n);
    if (sole)
      std::construct_at(&slot.ev, std::move(s.ev));
    else
      std::construct_at(&slot.ev, s.ev);
    slot.admitted_ns = s.admitted_ns;
    slot.sub = sub;
    ++n;
  }
  if (n > 0)
    ring.tail.store(t + n, std::memory_order_release);
  return n;
}

/// Conflating endpoint: writes up to limit held events into ring, oldest update first, and
/// publishes them; returns how many.
std::uint32_t fill_held(endpoint_state& ep, handoff_ring& ring, std::uint32_t limit) {
  const auto t = ring.tail.load(std::memory_order_relaxed); // ours
  std::uint32_t n = 0;
  auto& held = ep.held;
  while (n < limit && held.oldest != nullptr) {
    auto& e = *held.oldest;
    auto& slot = ring.at(t + n);
    std::construct_at(&slot.ev, std::move(e.ev));
    slot.admitted_ns = e.admitted_ns;
    slot.sub = e.sub;
    ++n;
    held.erase(e);
  }
  if (n > 0)
    ring.tail.store(t + n, std::memory_order_release);
  return n;
}

/// Conflating endpoint behind (ring full, or events held): takes up to max MARKET_DATA events
/// of its conflating subscriptions into its held events, replacing the older one of the same
/// stream, so that it holds back no capacity. Stops at an event of one of its other
/// subscriptions (that one waits for credit, as usual). True when it took any.
bool absorb(broker_state& st, endpoint_state& ep, std::size_t max) {
  constexpr auto p = static_cast<std::size_t>(priority::market_data);
  if (st.stale)
    return false;
  auto& lq = st.q[p];
  const bool sole = st.readers[p] == 1;
  auto& cur = ep.cursor[p];
  auto& held = ep.held;
  std::size_t n = 0;
  std::uint64_t replaced = 0;
  const auto through = ep.behind_writer ? st.core->ahead_through.load(std::memory_order_acquire) : UINT64_MAX;
  while (n < max) {
    if (cur == lq.end() && (!pull(st, p, pull_chunk) || st.stale))
      break;
    auto& s = lq.at(cur);
    if (s.ev.sequence() > through)
      break;
    if ((ep.mask & type_bit(s.ev.type())) == 0) {
      ++cur;
      continue;
    }
    // A filter may run twice for an event left here for fill() (first-increment simplicity).
    const auto* sub = match(st, ep, s.ev);
    if (sub == nullptr) {
      ++cur;
      continue;
    }
    if (sub->conflate != conflation::by_instrument)
      break;
    ++cur;
    ++n;
    auto key = key_of(s.ev);
    auto it = held.latest.find(key);
    if (it == held.latest.end()) {
      it = held.latest.emplace(key, held_events::entry{sole ? std::move(s.ev) : s.ev, s.admitted_ns, sub, key}).first;
    } else {
      held.unlink(it->second);
      if (sole)
        it->second.ev = std::move(s.ev);
      else
        it->second.ev = s.ev;
      it->second.admitted_ns = s.admitted_ns;
      it->second.sub = sub;
      ++replaced;
    }
    held.append(it->second);
  }
  if (replaced > 0)
    st.core->conflated.fetch_add(replaced, std::memory_order_relaxed);
  return n > 0;
}

/// Wakes the subscriber after a fill: always for RISK (urgently: it overtakes whatever the
/// subscriber's mailbox holds), otherwise only when it is idle.
void wake(broker_actor* self, endpoint_state& ep, bool urgent) {
  auto& ch = *ep.rec.channel;
  if (urgent) {
    ch.idle.store(false, std::memory_order_relaxed);
    self->send<caf::message_priority::high>(ep.rec.actor, delivery{ep.rec.channel, ep.rec.actor, true});
    return;
  }
  // Pairs with the subscriber's store of idle then read of our tail (delivery.hpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (ch.idle.load(std::memory_order_relaxed) && ch.idle.exchange(false, std::memory_order_acq_rel))
    self->send(ep.rec.actor, delivery{ep.rec.channel, ep.rec.actor, false});
}

/// Asks the subscriber to ack once it has consumed up to `at` (at most the ring's tail); true
/// when that has already happened (no ack will come, go on).
bool want_credit(handoff_ring& ring, std::uint64_t at) {
  ring.notify_at.store(at, std::memory_order_relaxed);
  // Pairs with the subscriber's store of head then read of notify_at (return_credit).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return ring.head.load(std::memory_order_acquire) >= at;
}

/// An ack when the ring is half empty (at least k events): refills come in chunks, not one by one.
bool want_refill(handoff_ring& ring, std::uint32_t window, std::uint32_t k) {
  const auto head = ring.head.load(std::memory_order_acquire);
  const auto tail = ring.tail.load(std::memory_order_relaxed);
  return want_credit(ring, std::min(tail, head + std::max<std::uint64_t>(k, window / 2)));
}

/// Releases events every interested endpoint has passed; returns how many.
std::uint64_t release(broker_state& st) {
  std::uint64_t total = 0;
  for (std::size_t p = 0; p < priority_count; ++p) {
    auto& lq = st.q[p];
    if (lq.empty())
      continue;
    auto lo = lq.end();
    for (auto& ep : st.eps) {
      if (!ep.wants(p))
        continue;
      // Skip events of types this endpoint never takes, so it does not hold them back.
      auto& c = ep.cursor[p];
      while (c < lq.end() && (ep.mask & type_bit(lq.at(c).ev.type())) == 0)
        ++c;
      lo = std::min(lo, c);
    }
    const auto n = lo - lq.base();
    lq.pop(n);
    total += n;
  }
  if (total > 0) {
    st.core->dispatched.fetch_add(total, std::memory_order_acq_rel);
    st.core->release(total);
  }
  return total;
}

/// Arms the publishers' wake flags; true when an event slipped in and we must pump again.
bool arm_wakes(broker_state& st) {
  // A priority is actionable when nobody reads it, or when a subscriber that wants it has credit
  // for it and is not held back by a higher priority of its own (a full ring with more of that
  // priority waiting: strict priority, pump fills nothing lower for it until its ack). Counting a
  // held-back subscriber as actionable made pump wake itself forever over events it must not move.
  std::array<bool, priority_count> actionable{};
  for (std::size_t p = 1; p < priority_count; ++p)
    actionable.at(p) = st.readers[p] == 0;
  for (const auto& ep : st.eps) {
    for (std::size_t p = 1; p < priority_count; ++p) {
      if (!ep.wants(p))
        continue;
      if (ep.rec.channel->rings[p].in_flight() < st.core->cfg.credit_window
          || (ep.conflates && p == static_cast<std::size_t>(priority::market_data))) {
        actionable.at(p) = true;
      } else if (ep.cursor[p] != st.q[p].end() || st.core->stages[p].size_approx() > 0) {
        // Out of credit with more waiting: nothing lower moves for it before its ack, except that
        // a conflating subscriber's ticks are still absorbed (pump does), so that they hold no
        // capacity meanwhile: a tick published now must wake the broker.
        if (ep.conflates && ep.wants(static_cast<std::size_t>(priority::market_data)))
          actionable.at(static_cast<std::size_t>(priority::market_data)) = true;
        break;
      }
    }
  }
  bool repump = false;
  for (std::size_t p = 1; p < priority_count; ++p) { // RISK publishes always wake
    if (!actionable.at(p)) {
      // Every interested subscriber is out of credit: its acks will pump; a wake per publish
      // would only flood the mailbox.
      st.core->wake_wanted[p].store(false, std::memory_order_relaxed);
      continue;
    }
    st.core->wake_wanted[p].store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (st.core->stages[p].size_approx() > 0 && st.core->wake_wanted[p].exchange(false, std::memory_order_acq_rel))
      repump = true;
  }
  return repump;
}

void check_quiet(broker_state& st) {
  if (st.core->pending() != 0)
    return;
  if (st.idle_waiters.empty() && !st.drain)
    return;
  // Quiet means every handler has run: ask for an ack when a ring runs dry.
  auto running = [](endpoint_channel& ch) {
    return std::any_of(ch.rings.begin(), ch.rings.end(), [](handoff_ring& ring) {
      return ring.in_flight() != 0 && !want_credit(ring, ring.tail.load(std::memory_order_relaxed));
    });
  };
  for (const auto& ep : st.eps) {
    if (!ep.held.empty())
      return; // the acks that make room for them pump again
    if (running(*ep.rec.channel))
      return;
  }
  std::erase_if(st.gone, [&](const auto& g) { return !running(*g.channel); });
  if (!st.gone.empty())
    return;
  for (auto& w : st.idle_waiters)
    w.set(0);
  st.idle_waiters.clear();
  if (st.drain) {
    st.drain->set(0);
    st.drain.reset();
  }
}

/// What stats() and subscribers() read: the events held per priority, and each endpoint's lag.
void publish_local_sizes(broker_state& st) {
  for (std::size_t p = 0; p < priority_count; ++p) {
    st.core->local_pending[p].store(st.q[p].size(), std::memory_order_relaxed);
    const auto end = st.q[p].end();
    for (auto& ep : st.eps)
      if (ep.wants(p))
        ep.rec.channel->lag[p].store(end - std::min(ep.cursor[p], end), std::memory_order_relaxed);
  }
}

void pump(broker_actor* self) {
  auto& st = self->state;
  refresh(self);
  if (!st.started || st.aborted) {
    publish_local_sizes(st);
    return;
  }
  const auto window = st.core->cfg.credit_window;
  const auto k = st.core->cfg.batch_size;
  for (int again = 0; again < max_repumps; ++again) {
    for (int round = 0; round < max_rounds; ++round) {
      bool progress = false;
      st.pulled = false;
      const auto n = st.eps.size();
      for (std::size_t i = 0; i < n && !st.stale; ++i) {
        auto& ep = st.eps[(st.rr + i) % n];
        auto& ch = *ep.rec.channel;
        // RISK first, and as many as its ring takes (RISK events are few; a subscriber busy with
        // others must still get them now): the subscriber runs them before its next other event.
        if (ep.wants(0)) {
          auto& risk = ch.rings[0];
          const auto used = risk.in_flight();
          if (used >= risk_ring_capacity) {
            progress = want_refill(risk, risk_ring_capacity, 1) || progress;
          } else if (fill(st, ep, risk, static_cast<std::uint32_t>(risk_ring_capacity - used), 0) > 0) {
            wake(self, ep, true);
            progress = true;
          }
        }
        // Then each other priority into its own ring of W (its credit), k at a time: ticks filling
        // theirs hold back no order.
        // Strict priority: nothing of a lower priority goes into a ring while events of a higher
        // one may still wait in the stages for this subscriber (they would run after it).
        bool filled = false;
        bool higher_waiting = false;
        auto more_of = [&](std::size_t p) {
          return ep.cursor[p] != st.q[p].end() || st.core->stages[p].size_approx() > 0;
        };
        for (std::size_t p = 1; p < priority_count && !st.stale; ++p) {
          if (!ep.wants(p))
            continue;
          auto& ring = ch.rings[p];
          const auto used = ring.in_flight();
          if (p == static_cast<std::size_t>(priority::market_data) && ep.conflates) {
            // Held events first (they are older than the stage's), then the stage; while behind,
            // the rest goes into the held events instead of waiting. A window of at most 2 (the
            // event running and the next): what its handler starts is never more than one handler
            // call older than the newest of the instrument (a ring of W would hold W stale ones).
            const auto cwin = std::min<std::uint32_t>(window, conflating_window);
            const auto room =
              higher_waiting || used >= cwin ? 0U : std::min<std::uint32_t>(k, cwin - static_cast<std::uint32_t>(used));
            auto put = fill_held(ep, ring, room);
            if (put < room && ep.held.empty())
              put += fill(st, ep, ring, room - put, p);
            filled = filled || put > 0;
            if (higher_waiting || ring.in_flight() >= cwin || !ep.held.empty()) {
              progress = absorb(st, ep, pull_chunk) || progress;
              if (ring.in_flight() >= cwin)
                progress = want_credit(ring, ring.head.load(std::memory_order_acquire) + 1) || progress;
            }
            continue;
          }
          if (higher_waiting)
            continue;
          if (used >= window) {
            // Out of credit: the subscriber acks when it has made room for a chunk.
            progress = want_refill(ring, window, k) || progress;
            higher_waiting = more_of(p);
            continue;
          }
          const auto limit = std::min<std::uint32_t>(k, window - static_cast<std::uint32_t>(used));
          const auto put = fill(st, ep, ring, limit, p);
          filled = filled || put > 0;
          // Fewer than asked: the fill ran out of events of p for it (it pulled the stage dry).
          higher_waiting = put == limit && more_of(p);
        }
        if (filled) {
          wake(self, ep, false);
          progress = true;
        }
      }
      if (st.stale) {
        refresh(self);
        continue;
      }
      ++st.rr;
      for (std::size_t p = 0; p < priority_count; ++p) {
        if (st.readers[p] == 0 && pull(st, p, orphan_chunk))
          progress = true; // nobody subscribed: dispatched to nobody by release()
      }
      if (st.stale) {
        refresh(self);
        continue;
      }
      release(st);
      // A round after one that made progress is needed even when nothing is left to hand over:
      // a fill that filled a ring does not ask for its ack, the next round's want_refill does, and
      // arm_wakes counts a full ring as not actionable. Ending here after a fill stalled the bus
      // (tried: libra-bench-latency lost 41% of its events).
      if (!progress && !st.pulled)
        break;
      if (round == max_rounds - 1) {
        // Yield the worker (acks and RISK wakes get in), continue on our own wake.
        self->send(self, wake_atom::value);
        publish_local_sizes(st);
        return;
      }
    }
    if (!arm_wakes(st))
      break;
    if (again == max_repumps - 1) {
      // Publishers keep racing us; arm_wakes consumed the flag, so we owe ourselves the wake.
      self->send(self, wake_atom::value);
      break;
    }
  }
  publish_local_sizes(st);
  check_quiet(st);
}

/// Drops everything staged (stop() after its drain timeout); returns how many.
std::uint64_t abort_all(broker_actor* self) {
  auto& st = self->state;
  st.aborted = true;
  std::array<std::uint64_t, priority_count> dropped{};
  std::uint64_t total = 0;
  auto drop_local = [&] {
    for (std::size_t p = 0; p < priority_count; ++p) {
      auto& lq = st.q[p];
      // Events some endpoints already had are dispatched only once all have them: those an
      // endpoint has not had yet are dropped.
      const auto n = lq.size();
      dropped[p] += n;
      total += n;
      st.core->dropped[p].fetch_add(n, std::memory_order_acq_rel);
      st.core->release(n);
      lq.pop(n);
      for (auto& ep : st.eps)
        ep.cursor[p] = lq.base();
    }
  };
  drop_local();
  for (auto& ep : st.eps)
    ep.held.clear(); // dispatched already (they left the stages): not counted again
  // The bus is closed, so only publishers that reserved a slot just before close() can still
  // be enqueueing: wait for them (nanoseconds) so the count is exact.
  for (std::size_t spins = 0; st.core->pending() != 0; ++spins) {
    bool any = false;
    for (std::size_t p = 0; p < priority_count; ++p)
      any = pull(st, p, orphan_chunk) || any;
    drop_local();
    if (!any) {
      if (spins > 1'000'000) {
        st.core->log->error("stop: {} admitted events never reached the stages", st.core->pending());
        break;
      }
      std::this_thread::yield();
    }
  }
  if (total > 0)
    st.core->log->warn("stop: drain timeout, dropped {} events (RISK={} ORDERS={} SIGNALS={} MARKET_DATA={})", total,
                       dropped[0], dropped[1], dropped[2], dropped[3]);
  publish_local_sizes(st);
  return total;
}

caf::behavior broker(broker_actor* self, std::shared_ptr<bus_core> core) {
  auto& st = self->state;
  st.core = std::move(core);
  for (std::size_t p = 0; p < priority_count; ++p)
    st.tokens[p].emplace(st.core->stages[p]);
  self->set_down_handler([self](caf::down_msg& dm) {
    self->state.core->remove_actor(dm.source);
    pump(self);
    // Its rings will not drain now (CAF dropped its deliveries).
    if (std::erase_if(self->state.gone, [&](const auto& g) { return g.actor == dm.source; }) > 0)
      check_quiet(self->state);
  });
  return {
    [self](wake_atom) { pump(self); },
    [self](ack_atom) { pump(self); },
    [self](start_atom) {
      self->state.started = true;
      pump(self);
    },
    [self](drain_atom, reply_slot& r) {
      self->state.drain = r;
      pump(self);
      check_quiet(self->state);
    },
    [self](abort_atom, reply_slot& r) {
      auto n = abort_all(self);
      if (self->state.drain) {
        self->state.drain->set(n);
        self->state.drain.reset();
      }
      r.set(n);
    },
    [self](idle_atom, reply_slot& r) {
      self->state.idle_waiters.push_back(r);
      check_quiet(self->state);
    },
  };
}

} // namespace

caf::actor spawn_broker(caf::actor_system& sys, std::shared_ptr<bus_core> core) {
  return sys.spawn(broker, std::move(core));
}

} // namespace libra::detail
