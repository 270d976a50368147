#include "broker.hpp"

#include "bus_core.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <deque>
#include <iterator>
#include <optional>
#include <thread>

namespace libra::detail {

namespace {

constexpr std::size_t pull_chunk = 256;    // events moved from a stage per bulk dequeue
constexpr std::size_t orphan_chunk = 4096; // events with no subscriber released per round
constexpr int max_rounds = 64;             // rounds per message before the broker yields
constexpr int max_repumps = 8;             // re-pumps for events that raced the wake flags
constexpr std::uint32_t risk_batch = 64;   // most RISK events per urgent batch

/// One priority's events, from the oldest not yet released by every interested endpoint.
struct local_queue {
  std::deque<staged> buf;
  std::uint64_t base = 0; // position of buf.front()
  [[nodiscard]] std::uint64_t end() const noexcept { return base + buf.size(); }
};

struct endpoint_state {
  endpoint_record rec;
  std::shared_ptr<const delivery::subscription_list> subs; // rec.subs, shared by every batch
  std::shared_ptr<endpoint_channel> channel;               // RISK preemption (delivery.hpp)
  std::uint32_t mask = 0;                                  // types this endpoint subscribed to
  std::array<std::uint64_t, priority_count> cursor{};
  std::uint32_t in_flight = 0;
  [[nodiscard]] bool wants(std::size_t p) const noexcept { return (mask & types_of(static_cast<priority>(p))) != 0; }
};

struct broker_state {
  broker_state() = default; // user-declared: CAF must not aggregate-init this from the actor pointer

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
};

using broker_actor = caf::stateful_actor<broker_state>;

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
    } else {
      self->monitor(rec.actor);
      ep.channel = std::make_shared<endpoint_channel>();
    }
    ep.rec = std::move(rec);
    ep.subs = std::make_shared<const delivery::subscription_list>(ep.rec.subs);
    ep.mask = 0;
    for (const auto& sub : ep.rec.subs)
      ep.mask |= type_bit(sub->type);
    for (std::size_t p = 0; p < priority_count; ++p) {
      const auto prio_types = types_of(static_cast<priority>(p));
      if ((old_mask & prio_types) == 0 && (ep.mask & prio_types) != 0)
        ep.cursor[p] = st.fresh_start[p]; // newly interested in this priority
    }
    next.push_back(std::move(ep));
  }
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
  const auto n = st.core->stages[p].try_dequeue_bulk(*st.tokens[p], std::back_inserter(lq.buf), max);
  if (n > 0 && !st.stale && st.core->registry_version() != st.version) {
    st.stale = true;
    for (std::size_t i = 0; i < priority_count; ++i)
      st.fresh_start[i] = st.q[i].end();
    st.fresh_start[p] = before;
  }
  return n > 0;
}

/// Index of the endpoint's first subscription that takes e, or -1.
int match(broker_state& st, const endpoint_state& ep, const event& e) {
  const auto& subs = ep.rec.subs;
  for (std::size_t i = 0; i < subs.size(); ++i) {
    const auto& sub = *subs[i];
    if (sub.type != e.type() || e.sequence() < sub.from_seq)
      continue;
    if (!sub.flt)
      return static_cast<int>(i);
    try {
      if (sub.flt(e))
        return static_cast<int>(i);
    } catch (...) {
      report_filter_error(*st.core, sub, e, std::current_exception());
    }
  }
  return -1;
}

/// Up to limit events for ep from priorities [first, last): strictly by priority, FIFO within one.
std::vector<delivery_entry> build(broker_state& st, endpoint_state& ep, std::uint32_t limit, std::size_t first,
                                  std::size_t last) {
  std::vector<delivery_entry> batch;
  for (std::size_t p = first; p < last && batch.size() < limit && !st.stale; ++p) {
    if (!ep.wants(p))
      continue;
    auto& lq = st.q[p];
    // The sole reader may take the event instead of copying it: nobody else will read it.
    const bool sole = st.readers[p] == 1;
    auto& cur = ep.cursor[p];
    while (batch.size() < limit) {
      if (cur == lq.end() && (!pull(st, p, pull_chunk) || st.stale))
        break;
      auto& s = lq.buf[cur - lq.base];
      ++cur;
      if ((ep.mask & type_bit(s.ev.type())) == 0)
        continue;
      const int idx = match(st, ep, s.ev);
      if (idx < 0)
        continue;
      if (batch.empty())
        batch.reserve(limit);
      if (sole)
        batch.push_back({std::move(s.ev), s.admitted_ns, static_cast<std::uint32_t>(idx)});
      else
        batch.push_back({s.ev, s.admitted_ns, static_cast<std::uint32_t>(idx)});
    }
  }
  return batch;
}

/// Releases events every interested endpoint has passed; returns how many.
std::uint64_t release(broker_state& st) {
  std::uint64_t total = 0;
  for (std::size_t p = 0; p < priority_count; ++p) {
    auto& lq = st.q[p];
    if (lq.buf.empty())
      continue;
    auto lo = lq.end();
    for (auto& ep : st.eps) {
      if (!ep.wants(p))
        continue;
      // Skip events of types this endpoint never takes, so it does not hold them back.
      auto& c = ep.cursor[p];
      while (c < lq.end() && (ep.mask & type_bit(lq.buf[c - lq.base].ev.type())) == 0)
        ++c;
      lo = std::min(lo, c);
    }
    const auto n = lo - lq.base;
    lq.buf.erase(lq.buf.begin(), lq.buf.begin() + static_cast<std::ptrdiff_t>(n));
    lq.base = lo;
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
  bool repump = false;
  for (std::size_t p = 1; p < priority_count; ++p) { // RISK publishes always wake
    bool actionable = st.readers[p] == 0;
    for (const auto& ep : st.eps)
      actionable = actionable || (ep.wants(p) && ep.in_flight < st.core->cfg.credit_window);
    if (!actionable) {
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
  for (const auto& ep : st.eps)
    if (ep.in_flight != 0)
      return;
  for (auto& w : st.idle_waiters)
    w.set(0);
  st.idle_waiters.clear();
  if (st.drain) {
    st.drain->set(0);
    st.drain.reset();
  }
}

void publish_local_sizes(broker_state& st) {
  for (std::size_t p = 0; p < priority_count; ++p)
    st.core->local_pending[p].store(st.q[p].buf.size(), std::memory_order_relaxed);
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
      const auto n = st.eps.size();
      for (std::size_t i = 0; i < n && !st.stale; ++i) {
        auto& ep = st.eps[(st.rr + i) % n];
        // RISK first, urgently, and past the credit window (RISK events are few; a subscriber
        // out of credit must still get them now): the subscriber sets its batch aside for them.
        if (ep.wants(0)) {
          auto risk = build(st, ep, std::max<std::uint32_t>(k, risk_batch), 0, 1);
          if (!risk.empty()) {
            ep.in_flight += static_cast<std::uint32_t>(risk.size());
            ep.channel->urgent_pending.store(true, std::memory_order_release);
            self->send<caf::message_priority::high>(
              ep.rec.actor, delivery{std::move(risk), ep.subs, st.core, ep.rec.id, ep.channel, true});
            progress = true;
          }
        }
        if (ep.in_flight >= window || st.stale)
          continue;
        auto batch = build(st, ep, std::min(k, window - ep.in_flight), 1, priority_count);
        if (batch.empty())
          continue;
        ep.in_flight += static_cast<std::uint32_t>(batch.size());
        self->send(ep.rec.actor, delivery{std::move(batch), ep.subs, st.core, ep.rec.id, ep.channel, false});
        progress = true;
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
      if (!progress)
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
      dropped[p] += lq.buf.size();
      total += lq.buf.size();
      st.core->dropped[p].fetch_add(lq.buf.size(), std::memory_order_acq_rel);
      st.core->release(lq.buf.size());
      lq.base = lq.end();
      lq.buf.clear();
      for (auto& ep : st.eps)
        ep.cursor[p] = lq.base;
    }
  };
  drop_local();
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
  });
  return {
    [self](wake_atom) { pump(self); },
    [self](ack_atom, std::uint64_t endpoint, std::uint32_t n) {
      auto& eps = self->state.eps;
      auto it = std::find_if(eps.begin(), eps.end(), [&](const endpoint_state& e) { return e.rec.id == endpoint; });
      if (it != eps.end())
        it->in_flight -= std::min(n, it->in_flight);
      pump(self);
    },
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
