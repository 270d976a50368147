#include "bus_core.hpp"

#include "subscriber.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace libra::detail {

std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

bus_core::bus_core(caf::actor_system& system, bus_config config)
  : sys{system}, cfg{std::move(config)}, log{cfg.logger ? cfg.logger
                                                        : spdlog::default_logger()->clone("libra." + cfg.name)} {
  for (std::size_t p = 0; p < priority_count; ++p)
    admission_limit[p] = libra::admission_limit(cfg, static_cast<priority>(p)); // >= 1: validated
}

// -- admission ----------------------------------------------------------------------------------

template <class Stamp, class Enqueue>
publish_status bus_core::admit_one(event&& e, Stamp&& now, Enqueue&& enqueue) {
  // Exact capacity under concurrent publishers: reserve a slot with a CAS, never over-admit and
  // then undo (that would make a concurrent publisher see a full bus that is not).
  const auto limit = admission_limit[static_cast<std::size_t>(e.priority())];
  auto cur = admission_.load(std::memory_order_relaxed);
  do {
    if ((cur & closed_bit) != 0) {
      rejected_closed_.fetch_add(1, std::memory_order_relaxed);
      return publish_status::closed;
    }
    if (cur >= limit) {
      rejected_full_.fetch_add(1, std::memory_order_relaxed);
      return publish_status::full;
    }
  } while (!admission_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
  const auto seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
  const auto p = static_cast<std::size_t>(e.priority());
  enqueue(p, staged{std::move(e).with_sequence(seq), now(p, seq)});
  return publish_status::accepted;
}

void bus_core::after_enqueue(std::uint32_t priorities_touched) {
  if ((priorities_touched & 1U) != 0) {
    // RISK always wakes, urgently: it must not wait behind anything, and it is rare.
    wake_urgent();
    priorities_touched &= ~1U;
  }
  if (priorities_touched == 0)
    return;
  // Pairs with the broker's store of wake_wanted then read of the stage (Dekker): without the
  // fence our load could pass our enqueue and both sides would miss each other.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (std::size_t p = 1; p < priority_count; ++p) {
    if ((priorities_touched & (1U << p)) != 0 && wake_wanted[p].load(std::memory_order_relaxed)
        && wake_wanted[p].exchange(false, std::memory_order_acq_rel)) {
      wake();
      return; // one wake serves all priorities
    }
  }
}

publish_status bus_core::publish(event&& e, producer_tokens* tokens) {
  const auto p = static_cast<unsigned>(e.priority());
  // A clock read costs ~30 ns on this VM's kvm-clock, as much as the rest of publish(): latency
  // is sampled, every RISK event and 1 in latency_sample of the others.
  auto stamp = [](std::size_t prio, std::uint64_t seq) -> std::int64_t {
    return prio == 0 || seq % latency_sample == 0 ? steady_now_ns() : 0;
  };
  const auto status = admit_one(std::move(e), stamp, [&](std::size_t prio, staged&& s) {
    if (tokens != nullptr)
      stages[prio].enqueue(tokens->tokens[prio], std::move(s));
    else
      stages[prio].enqueue(std::move(s));
  });
  if (status == publish_status::accepted)
    after_enqueue(1U << p);
  return status;
}

namespace {

/// Yields staged{events[i] with sequence first_seq + i, stamp} for enqueue_bulk, which
/// constructs each slot from *it: the event is copied once, straight into the queue.
class staging_iterator {
public:
  staging_iterator(const event* e, std::uint64_t seq, std::int64_t stamp) : e_{e}, seq_{seq}, stamp_{stamp} {}
  staged operator*() const {
    // Sampled like publish(): every RISK event, 1 in latency_sample of the others (a clock read
    // on the subscriber for every event cost more than the rest of its handling).
    const bool sampled = e_->priority() == priority::risk || seq_ % latency_sample == 0;
    return staged{e_->with_sequence(seq_), sampled ? stamp_ : 0};
  }
  staging_iterator& operator++() {
    ++e_;
    ++seq_;
    return *this;
  }
  staging_iterator operator++(int) {
    auto old = *this;
    ++*this;
    return old;
  }

private:
  const event* e_;
  std::uint64_t seq_;
  std::int64_t stamp_;
};

} // namespace

// GCC 12 reports -Wstringop-overflow inside moodycamel's inlined enqueue_bulk (an atomic load it
// thinks writes into a zero-size region): a false positive of its inliner, not reproducible
// with clang; silenced for this function only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
publish_many_result bus_core::publish_many(std::span<const event> events, producer_tokens* tokens) {
  if (events.empty())
    return {};
  // One reservation for the longest admissible prefix: event i needs pending + i below the
  // limit of its own priority (exact, as in admit_one).
  std::size_t n = 0;
  auto cur = admission_.load(std::memory_order_relaxed);
  for (;;) {
    if ((cur & closed_bit) != 0) {
      rejected_closed_.fetch_add(events.size(), std::memory_order_relaxed);
      return {0, publish_status::closed};
    }
    n = 0;
    while (n < events.size() && cur + n < admission_limit[static_cast<std::size_t>(events[n].priority())])
      ++n;
    if (n == 0) {
      rejected_full_.fetch_add(events.size(), std::memory_order_relaxed);
      return {0, publish_status::full};
    }
    if (admission_.compare_exchange_weak(cur, cur + n, std::memory_order_acq_rel, std::memory_order_relaxed))
      break;
  }
  auto seq = next_seq_.fetch_add(n, std::memory_order_relaxed);
  const auto now = steady_now_ns(); // one read per call, for the sampled events of the call
  std::uint32_t touched = 0;
  // Runs of one priority go in with one bulk enqueue each (FIFO per producer and priority).
  for (std::size_t i = 0; i < n;) {
    const auto p = static_cast<std::size_t>(events[i].priority());
    std::size_t run = 1;
    while (i + run < n && static_cast<std::size_t>(events[i + run].priority()) == p)
      ++run;
    staging_iterator it{&events[i], seq, now};
    if (tokens != nullptr)
      stages[p].enqueue_bulk(tokens->tokens[p], it, run);
    else
      stages[p].enqueue_bulk(it, run);
    touched |= 1U << p;
    seq += run;
    i += run;
  }
  after_enqueue(touched);
  // The rest was refused (bus full): counted per event, as publish() counts them.
  if (n < events.size()) {
    rejected_full_.fetch_add(events.size() - n, std::memory_order_relaxed);
    return {n, publish_status::full};
  }
  return {n, publish_status::accepted};
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void bus_core::wake() const {
  if (broker)
    caf::anon_send(broker, wake_atom::value);
}

void bus_core::wake_urgent() const {
  if (broker)
    caf::anon_send<caf::message_priority::high>(broker, wake_atom::value);
}

// -- registry -----------------------------------------------------------------------------------

subscription_id bus_core::subscribe(event_type type, libra::handler h, const caf::actor* subscriber, libra::filter f,
                                    subscribe_options opts) {
  if (static_cast<std::size_t>(type) >= event_type_count)
    throw bus_error("subscribe: invalid event type");
  if (opts.conflate == conflation::by_instrument && type != event_type::tick && type != event_type::bar
      && type != event_type::order_book)
    throw bus_error(
      fmt::format("subscribe to {}: conflate by_instrument applies to TICK, BAR and ORDER_BOOK only", to_string(type)));
  if (subscriber == nullptr && !h)
    throw bus_error("subscribe: empty handler");
  if (subscriber != nullptr && !*subscriber)
    throw bus_error("subscribe: invalid actor handle");
  std::lock_guard guard{mu_};
  if (registry_closed_)
    throw bus_error(fmt::format("subscribe to {}: bus '{}' is stopped", to_string(type), cfg.name));
  auto& count = per_type_[static_cast<std::size_t>(type)];
  if (count >= cfg.max_handlers_per_type)
    throw bus_error(fmt::format("subscribe to {}: the type already has {} subscriptions (max_handlers_per_type = {})",
                                to_string(type), count, cfg.max_handlers_per_type));
  auto sub = std::make_shared<subscription_state>();
  sub->id = next_sub_id_++;
  sub->type = type;
  sub->fn = std::move(h);
  sub->flt = std::move(f);
  sub->conflate = opts.conflate;
  // Events admitted from here on get a sequence >= from_seq: exactly those published after
  // subscribe() returns, plus possibly some racing with it.
  sub->from_seq = next_seq_.load(std::memory_order_acquire);
  if (subscriber == nullptr) {
    // One actor per handler identity: its subscriptions share one ring, so the handler sees
    // them in priority order and never runs concurrently with itself.
    const auto identity = sub->fn.identity();
    auto it = endpoint_of_handler_.find(identity);
    if (it == endpoint_of_handler_.end()) {
      auto actor = sys.spawn(callback_subscriber, sub->fn);
      endpoint_record ep{next_endpoint_id_++,
                         actor,
                         identity,
                         {},
                         std::make_shared<endpoint_channel>(shared_from_this(), cfg.credit_window, cfg.batch_size)};
      endpoint_of_actor_[actor.address()] = ep.id;
      it = endpoint_of_handler_.emplace(identity, ep.id).first;
      endpoints_.emplace(ep.id, std::move(ep));
    }
    sub->endpoint = it->second;
  } else {
    auto addr = subscriber->address();
    auto it = endpoint_of_actor_.find(addr);
    if (it == endpoint_of_actor_.end()) {
      endpoint_record ep{next_endpoint_id_++,
                         *subscriber,
                         0,
                         {},
                         std::make_shared<endpoint_channel>(shared_from_this(), cfg.credit_window, cfg.batch_size)};
      it = endpoint_of_actor_.emplace(addr, ep.id).first;
      endpoints_.emplace(ep.id, std::move(ep));
    }
    sub->endpoint = it->second;
  }
  endpoints_.at(sub->endpoint).subs.push_back(sub);
  subs_.emplace(sub->id, sub);
  ++count;
  version_.fetch_add(1, std::memory_order_acq_rel);
  return sub->id;
}

bool bus_core::remove_locked(subscription_id id, std::vector<caf::actor>& to_end, running_calls& calls) {
  auto it = subs_.find(id);
  if (it == subs_.end())
    return false;
  auto sub = it->second;
  sub->active.store(false, std::memory_order_seq_cst);
  subs_.erase(it);
  --per_type_[static_cast<std::size_t>(sub->type)];
  auto ep = endpoints_.find(sub->endpoint);
  if (ep != endpoints_.end()) {
    calls.note(ep->second.channel);
    std::erase(ep->second.subs, sub);
    if (ep->second.subs.empty()) {
      if (ep->second.handler_identity != 0)
        to_end.push_back(ep->second.actor);
      erase_endpoint_locked(ep);
    }
  }
  return true;
}

void bus_core::erase_endpoint_locked(std::map<std::uint64_t, endpoint_record>::iterator ep) {
  endpoint_of_actor_.erase(ep->second.actor.address());
  if (ep->second.handler_identity != 0)
    endpoint_of_handler_.erase(ep->second.handler_identity);
  endpoints_.erase(ep);
}

namespace {
void end_actors(const std::vector<caf::actor>& actors) {
  for (const auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}
} // namespace

void running_calls::note(const std::shared_ptr<endpoint_channel>& ch) {
  if (ch && std::find(channels_.begin(), channels_.end(), ch) == channels_.end())
    channels_.push_back(ch);
}

bool bus_core::inside_handler_locked() const {
  const auto me = std::this_thread::get_id();
  return std::any_of(endpoints_.begin(), endpoints_.end(), [&](const auto& kv) {
    const auto& ch = kv.second.channel;
    return ch && (ch->drains.load(std::memory_order_acquire) & 1U) != 0
           && ch->runner.load(std::memory_order_relaxed) == me;
  });
}

void running_calls::wait() const {
  if (inside_handler_)
    return;
  // Pairs with drain_scope's count-then-check (Dekker): a drain we do not see running sees the
  // subscriptions inactive.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (const auto& ch : channels_) {
    const auto v = ch->drains.load(std::memory_order_seq_cst);
    if ((v & 1U) == 0)
      continue;
    // A drain was running when the subscription went: it may be calling it now. Handlers are
    // short, so this waits microseconds; one that blocks holds this up as long.
    while (ch->drains.load(std::memory_order_acquire) == v)
      std::this_thread::yield();
  }
}

bool bus_core::unsubscribe(subscription_id id) {
  std::vector<caf::actor> to_end;
  running_calls calls;
  bool removed = false;
  {
    std::lock_guard guard{mu_};
    calls.from_inside_handler(inside_handler_locked());
    removed = remove_locked(id, to_end, calls);
    if (removed)
      version_.fetch_add(1, std::memory_order_acq_rel);
  }
  calls.wait();
  end_actors(to_end);
  if (removed)
    wake(); // the subscription may have held back events the others already had
  return removed;
}

bool bus_core::unsubscribe_handler(event_type type, const libra::handler& h) {
  std::vector<caf::actor> to_end;
  running_calls calls;
  bool removed = false;
  {
    std::lock_guard guard{mu_};
    calls.from_inside_handler(inside_handler_locked());
    std::vector<subscription_id> ids;
    for (const auto& [id, sub] : subs_)
      if (sub->type == type && sub->fn && sub->fn == h)
        ids.push_back(id);
    for (auto id : ids)
      removed = remove_locked(id, to_end, calls) || removed;
    if (removed)
      version_.fetch_add(1, std::memory_order_acq_rel);
  }
  calls.wait();
  end_actors(to_end);
  if (removed)
    wake();
  return removed;
}

void bus_core::remove_actor(const caf::actor_addr& addr) {
  std::lock_guard guard{mu_};
  auto it = endpoint_of_actor_.find(addr);
  if (it == endpoint_of_actor_.end())
    return;
  auto ep = endpoints_.find(it->second);
  if (ep != endpoints_.end()) {
    // After stop() subscribers ending is the shutdown itself, not news.
    log->log(stopped.load(std::memory_order_acquire) ? spdlog::level::debug : spdlog::level::warn,
             "subscriber actor died: endpoint={} subscriptions={} removed", ep->first, ep->second.subs.size());
    for (const auto& sub : ep->second.subs) {
      sub->active.store(false, std::memory_order_release);
      --per_type_[static_cast<std::size_t>(sub->type)];
      subs_.erase(sub->id);
    }
    erase_endpoint_locked(ep);
  } else {
    endpoint_of_actor_.erase(it);
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void bus_core::set_ahead_writer(const caf::actor_addr& writer) {
  std::lock_guard guard{mu_};
  ahead_writer = writer;
  ahead.store(true, std::memory_order_release);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t bus_core::snapshot(std::vector<endpoint_record>& out) const {
  std::lock_guard guard{mu_};
  out.clear();
  out.reserve(endpoints_.size());
  for (const auto& [id, ep] : endpoints_)
    out.push_back(ep);
  return version_.load(std::memory_order_acquire);
}

caf::actor bus_core::subscriber_actor(subscription_id id) const {
  std::lock_guard guard{mu_};
  auto it = subs_.find(id);
  if (it == subs_.end())
    return {};
  auto ep = endpoints_.find(it->second->endpoint);
  return ep == endpoints_.end() ? caf::actor{} : ep->second.actor;
}

std::array<std::size_t, event_type_count> bus_core::subscription_counts() const {
  std::array<std::size_t, event_type_count> out{};
  std::lock_guard guard{mu_};
  for (const auto& [id, s] : subs_)
    ++out.at(static_cast<std::size_t>(s->type));
  return out;
}

std::vector<caf::actor> bus_core::close_registry() {
  std::lock_guard guard{mu_};
  registry_closed_ = true;
  std::vector<caf::actor> owned;
  for (auto& [id, ep] : endpoints_)
    if (ep.handler_identity != 0)
      owned.push_back(ep.actor);
  return owned;
}

void bus_core::clear_registry() {
  std::lock_guard guard{mu_};
  registry_closed_ = true;
  subs_.clear();
  endpoints_.clear();
  endpoint_of_actor_.clear();
  endpoint_of_handler_.clear();
  per_type_ = {};
}

// -- stats --------------------------------------------------------------------------------------

bus_stats bus_core::stats() const {
  bus_stats s;
  // Read 'pending' before 'dispatched'/'dropped' and 'published' last: the broker adds to
  // dispatched before it releases pending, so at a quiet point the identity holds exactly.
  s.pending = pending();
  s.dispatched = dispatched.load(std::memory_order_acquire);
  for (std::size_t p = 0; p < priority_count; ++p) {
    s.dropped_by_priority[p] = dropped[p].load(std::memory_order_acquire);
    s.dropped += s.dropped_by_priority[p];
    s.pending_by_priority[p] = stages[p].size_approx() + local_pending[p].load(std::memory_order_relaxed);
    s.latency[p] = latency[p].summary();
  }
  s.published = next_seq_.load(std::memory_order_acquire) - 1;
  s.rejected_full = rejected_full_.load(std::memory_order_relaxed);
  s.rejected_closed = rejected_closed_.load(std::memory_order_relaxed);
  s.rejected = s.rejected_full + s.rejected_closed;
  s.errors = errors_.load(std::memory_order_relaxed);
  s.handler_calls = handler_calls.load(std::memory_order_relaxed);
  s.conflated = conflated.load(std::memory_order_relaxed);
  {
    std::lock_guard guard{mu_};
    s.handlers = subs_.size();
  }
  return s;
}

std::vector<subscriber_stats> bus_core::subscribers() const {
  std::vector<subscriber_stats> out;
  std::lock_guard guard{mu_};
  out.reserve(endpoints_.size());
  for (const auto& [id, ep] : endpoints_) {
    subscriber_stats s;
    s.actor = ep.actor;
    s.callback = ep.handler_identity != 0;
    s.credit_window = cfg.credit_window;
    for (const auto& sub : ep.subs)
      s.types.push_back(sub->type);
    for (std::size_t p = 0; p < priority_count; ++p) {
      auto& ring = ep.channel->rings[p];
      // head first: tail >= head whenever both are read in that order.
      const auto head = ring.head.load(std::memory_order_acquire);
      const auto tail = ring.tail.load(std::memory_order_acquire);
      s.in_flight[p] = tail - head;
      s.handed += tail;
      s.handled += head;
      // What the broker holds past its cursor, and what it has not taken from the stage yet.
      if (s.takes(static_cast<priority>(p)))
        s.lag[p] = ep.channel->lag[p].load(std::memory_order_relaxed) + stages[p].size_approx();
    }
    out.push_back(std::move(s));
  }
  return out;
}

// -- hooks used by libra::delivery (public header) ----------------------------------------------

// seq_cst (a plain load on x86): the other half of drain_scope's Dekker with unsubscribe.
bool is_active(const subscription_state& s) noexcept { return s.active.load(std::memory_order_seq_cst); }

void record_latency(bus_core& core, priority p, std::int64_t admitted_ns, std::int64_t now_ns) noexcept {
  core.latency[static_cast<std::size_t>(p)].record(now_ns - admitted_ns);
}

namespace {
std::string describe(std::exception_ptr what) {
  try {
    std::rethrow_exception(std::move(what));
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "non-standard exception";
  }
}
// Rate limit: a handler that throws on every event must not flood the log.
bool worth_logging(std::uint64_t n) noexcept { return n <= 10 || (n & (n - 1)) == 0; }
} // namespace

void report_handler_error(bus_core& core, const subscription_state& s, const event& e,
                          std::exception_ptr what) noexcept {
  const auto n = core.count_error();
  if (worth_logging(n))
    core.log->error("handler threw: type={} subscription={} trace_id={} error=\"{}\" errors_so_far={}",
                    to_string(e.type()), s.id, e.trace_id().to_hex(), describe(std::move(what)), n);
}

void report_filter_error(bus_core& core, const subscription_state& s, const event& e,
                         std::exception_ptr what) noexcept {
  const auto n = core.count_error();
  if (worth_logging(n))
    core.log->error("filter threw (event skipped for this subscription): type={} subscription={} trace_id={} "
                    "error=\"{}\" errors_so_far={}",
                    to_string(e.type()), s.id, e.trace_id().to_hex(), describe(std::move(what)), n);
}

void return_credit(endpoint_channel& ch, handoff_ring& ring, std::uint64_t head, std::uint64_t calls) noexcept {
  auto& core = ch.core();
  // Before the head: once the broker sees the credit (wait_idle), the calls are counted.
  core.handler_calls.fetch_add(calls, std::memory_order_relaxed);
  ring.head.store(head, std::memory_order_release);
  // Pairs with the broker's store of notify_at then read of head (Dekker): either it sees our
  // head or we see its request.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const auto want = ring.notify_at.load(std::memory_order_relaxed);
  if (want != 0 && head >= want && ring.notify_at.exchange(0, std::memory_order_acq_rel) != 0 && core.broker)
    caf::anon_send<caf::message_priority::high>(core.broker, ack_atom::value);
}

drain_scope::drain_scope(bus_core& core, endpoint_channel& ch) noexcept : core_{core}, ch_{ch} {
  ch_.runner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  // Paired with unsubscribe's store of active then read of drains (Dekker): either it sees this
  // drain running (and waits for its end), or our calls see the subscription inactive.
  ch_.drains.fetch_add(1, std::memory_order_seq_cst);
  // seq_cst, paired with stop()'s store of halted then wait_idle()'s read of active_drains:
  // either stop sees us draining, or we see halted before our first handler call.
  core_.active_drains.fetch_add(1, std::memory_order_seq_cst);
}

drain_scope::~drain_scope() {
  core_.active_drains.fetch_sub(1, std::memory_order_seq_cst);
  ch_.drains.fetch_add(1, std::memory_order_release); // after our last handler call
}

bool drain_scope::halted() const noexcept { return core_.halted.load(std::memory_order_seq_cst); }

void rewake(const caf::actor& subscriber, std::shared_ptr<endpoint_channel> ch) noexcept {
  if (subscriber)
    caf::anon_send(subscriber, delivery{std::move(ch), subscriber, false});
}

} // namespace libra::detail
