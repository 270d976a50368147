#include "runner.hpp"

#include "core/metrics.hpp"
#include "core/monitor.hpp"

#include "journal/deterministic.hpp"
#include "journal/writer.hpp"
#include "net/node.hpp"

#include <libra/bus.hpp>
#include <libra/json.hpp>
#include <libra/output_file.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <thread>

namespace libra::core {

namespace {

using clock = std::chrono::steady_clock;

// Actors told to exit once the drain budget is spent still get this long to end.
constexpr std::chrono::milliseconds actor_end_grace{100};
// A refused start: how long the actors started so far may take to end (they got an exit message
// in the middle of their first work; ending takes microseconds when healthy).
constexpr std::chrono::milliseconds refused_end_grace{5000};

/// SIGINT/SIGTERM/SIGHUP arrive here, on a thread of their own (sigwait), never in a handler.
class signal_watch {
public:
  explicit signal_watch(std::function<void(int)> on_signal) {
    set_ = watched();
    thread_ = std::thread{[this, fn = std::move(on_signal)] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0 || sig == SIGUSR1)
          return;
        fn(sig);
      }
    }};
  }
  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;
  ~signal_watch() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  /// Blocks the signals in the calling thread; call before any other thread starts (they
  /// inherit the mask), so that only sigwait sees them.
  static void block_in_this_thread() {
    const auto s = watched();
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
  }

private:
  // SIGHUP (the terminal went away, or a supervisor's stop) ends the run as SIGTERM does;
  // SIGUSR1 is our own: it ends the thread.
  static sigset_t watched() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1})
      sigaddset(&s, sig);
    return s;
  }
  sigset_t set_{};
  std::thread thread_;
};

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

std::string thousands(std::uint64_t v) {
  // Written back to front into a buffer: std::string::insert here tripped GCC 12's -Wrestrict
  // (a false positive inside libstdc++) at -O3 with warnings as errors.
  std::array<char, 32> buf{};
  auto pos = buf.size();
  for (int digits = 0; digits == 0 || v != 0; ++digits, v /= 10) {
    if (digits > 0 && digits % 3 == 0)
      buf[--pos] = ',';
    buf[--pos] = static_cast<char>('0' + v % 10);
  }
  return {buf.data() + pos, buf.size() - pos};
}

/// What the main thread, the signal thread and the actors' callbacks share.
struct run_control {
  std::mutex mu;
  std::condition_variable cv;
  int signal_seen = 0;
  bool stopping = false;             // the run has ended; drain and summary under way
  std::vector<std::string> failures; // every failure, at any phase; the first one ends the run
  std::size_t producers_left = 0;
  std::size_t actors_down = 0;
  std::string stop_reason; // a distributed node: a peer was lost and the policy is halt

  void fail(std::string why) {
    {
      std::lock_guard guard{mu};
      failures.push_back(std::move(why));
    }
    cv.notify_all();
  }
};

/// Monitors the topology's actors: one that dies of anything but the runner's own exit (or a
/// normal end) is a failure of the run; every end is counted, so shutdown can wait for them.
caf::behavior watcher_actor(caf::event_based_actor* self, std::vector<std::pair<std::string, caf::actor>> actors,
                            run_control* ctl) {
  std::map<caf::actor_addr, std::string> names;
  for (auto& [name, a] : actors) {
    names.emplace(a.address(), name);
    self->monitor(a);
  }
  self->set_down_handler([self, ctl, names = std::move(names)](caf::down_msg& dm) {
    if (dm.reason && dm.reason != caf::exit_reason::user_shutdown) {
      auto it = names.find(dm.source);
      ctl->fail(
        fmt::format("actor '{}' died: {}", it == names.end() ? "?" : it->second, self->system().render(dm.reason)));
    }
    {
      std::lock_guard guard{ctl->mu};
      ++ctl->actors_down;
    }
    ctl->cv.notify_all();
  });
  return {[](halt_atom) {}}; // not empty: an actor without behavior would end at once
}

/// The subscriber actors by name, for the metrics: the topology's and the runtime's own.
std::vector<std::pair<std::string, caf::actor>>
subscriber_names(std::vector<std::pair<std::string, caf::actor>> spawned, const caf::actor& monitor,
                 const caf::actor& journal_actor) {
  spawned.emplace_back("libra.monitor", monitor);
  if (journal_actor)
    spawned.emplace_back("libra.journal", journal_actor);
  return spawned;
}

/// The journal's figures (--stats-json's `journal`), or null.
void journal_json(json_writer& w, const journal::journal_writer* jw) {
  if (jw == nullptr) {
    w.null();
    return;
  }
  const auto j = jw->stats();
  w.begin_object()
    .field("dir", jw->config().dir.string())
    .field("fsync", journal::to_string(jw->config().fsync))
    .field("records", j.records)
    .field("bytes", j.bytes)
    .field("segments", j.segments)
    .field("fsyncs", j.fsyncs)
    .field("mb_per_s", j.mb_per_s())
    .field("busy_s", j.busy_s)
    .field("max_lag_events", j.max_lag_events)
    .field("max_held", j.max_held)
    .end();
}

/// What the actors reported (--stats-json's `actors`): per actor, its figures and summary lines.
void actors_json(json_writer& w, const monitor_state& mon) {
  w.begin_object();
  for (const auto& [name, r] : mon.reports) {
    w.key(name).begin_object().key("figures").begin_array();
    for (const auto& f : r->figures()) {
      w.begin_object().field("name", f.name).field("kind", f.kind == figure_kind::counter ? "counter" : "gauge");
      if (!f.labels.empty()) {
        w.key("labels").begin_object();
        for (const auto& [k, v] : f.labels)
          w.field(k, v);
        w.end();
      }
      w.field("value", f.value).end();
    }
    w.end().key("summary").begin_array();
    for (const auto& line : r->summary_lines())
      w.value(line);
    w.end().end();
  }
  w.end();
}

/// The statistics as one JSON object (one line of --stats-json); reason is null while running.
std::string stats_json_line(const topology& topo, const std::string* reason, double wall, const bus_stats& s,
                            std::uint64_t dropped, std::size_t failures, monitor_state& mon,
                            const journal::journal_writer* jw, const net::node* node) {
  std::string out;
  json_writer w{out};
  w.begin_object().field("topology", topo.file.string()).field("final", reason != nullptr).key("reason");
  if (reason != nullptr)
    w.value(*reason);
  else
    w.null();
  w.field("wall_s", wall)
    .field("published", s.published)
    .field("dispatched", s.dispatched)
    .field("dropped", dropped)
    .field("rejected", s.rejected)
    .field("errors", s.errors)
    .field("failures", failures)
    .field("orders", count(mon, event_type::order_new))
    .field("fills", count(mon, event_type::order_filled))
    .field("order_rejections", count(mon, event_type::order_rejected));
  w.key("by_type").begin_object();
  for (auto t : all_event_types)
    w.field(to_string(t), count(mon, t));
  w.end().key("latency_ns").begin_object();
  for (std::size_t p = 0; p < priority_count; ++p) {
    const auto& l = s.latency[p];
    w.key(to_string(static_cast<priority>(p)))
      .begin_object()
      .field("count", l.count)
      .field("p50", l.p50.count())
      .field("p90", l.p90.count())
      .field("p99", l.p99.count())
      .field("p999", l.p999.count())
      .field("max", l.max.count())
      .end();
  }
  w.end().key("actors");
  actors_json(w, mon);
  w.key("journal");
  journal_json(w, jw);
  if (node != nullptr) // a distributed node: its links
    node->json(w.key("net"));
  w.end();
  out += '\n';
  return out;
}

void print_progress(double elapsed, double secs, std::uint64_t last_published, const bus_stats& s, monitor_state& mon) {
  fmt::print(stderr,
             "[{:7.1f}s] {:>10} ev/s | pending R{} O{} S{} M{} | dispatched {} | errors {} | orders {} fills {} "
             "rejected {}\n",
             elapsed, thousands(static_cast<std::uint64_t>(static_cast<double>(s.published - last_published) / secs)),
             s.pending_of(priority::risk), s.pending_of(priority::orders), s.pending_of(priority::signals),
             s.pending_of(priority::market_data), thousands(s.dispatched), s.errors, count(mon, event_type::order_new),
             count(mon, event_type::order_filled), count(mon, event_type::order_rejected));
}

/// False when the summary could not be written (stdout on a full disk, a closed pipe).
bool print_summary(std::FILE* out, const topology& topo, const std::string& reason, double wall, const bus_stats& s,
                   std::uint64_t dropped, const std::vector<std::string>& failures, monitor_state& mon,
                   const journal::journal_writer* jw) {
  fmt::print(out, "\n== libra-runtime summary: {} ({}) ==\n", topo.file.string(), reason);
  fmt::print(out, "wall time          {:.3f} s\n", wall);
  fmt::print(out, "events             published {}, dispatched {}, dropped {}, rejected {}, errors {}\n",
             thousands(s.published), thousands(s.dispatched), dropped, s.rejected, s.errors);
  if (s.conflated > 0) // a line of its own: only runs with a conflating subscription have it
    fmt::print(out,
               "conflated          {} (skipped by slow conflating subscribers: a newer one of the instrument "
               "replaced them)\n",
               thousands(s.conflated));
  fmt::print(out, "events by type    ");
  for (auto t : all_event_types)
    if (auto n = count(mon, t); n > 0)
      fmt::print(out, " {}={}", to_string(t), n);
  fmt::print(out, "\norders             new {}, filled {}, rejected {}\n", count(mon, event_type::order_new),
             count(mon, event_type::order_filled), count(mon, event_type::order_rejected));
  fmt::print(out, "risk events        breaches {}, drawdown warnings {}, circuit breakers {}\n",
             count(mon, event_type::risk_limit_breach), count(mon, event_type::drawdown_warning),
             count(mon, event_type::circuit_breaker));
  // What the actors report about their work (the risk engine's decisions, the venue's fills, the
  // positions and PnL), as they wrote it.
  for (const auto& [name, r] : mon.reports)
    for (const auto& line : r->summary_lines())
      fmt::print(out, "{}\n", line);
  for (std::size_t p = 0; p < priority_count; ++p) {
    const auto& l = s.latency[p];
    if (l.count > 0)
      fmt::print(out, "latency {:<11} n={} p50={:.1f}us p99={:.1f}us max={:.1f}us (publish -> handler start)\n",
                 to_string(static_cast<priority>(p)), l.count, static_cast<double>(l.p50.count()) / 1e3,
                 static_cast<double>(l.p99.count()) / 1e3, static_cast<double>(l.max.count()) / 1e3);
  }
  if (jw != nullptr) {
    const auto j = jw->stats();
    fmt::print(out,
               "journal            {}: records {}, bytes {}, segments {}, fsyncs {} (fsync {}), {:.1f} MB/s writing, "
               "max writer lag {} events (held back for admission order: at most {})\n",
               jw->config().dir.string(), thousands(j.records), thousands(j.bytes), j.segments, j.fsyncs,
               journal::to_string(jw->config().fsync), j.mb_per_s(), thousands(j.max_lag_events),
               thousands(j.max_held));
  }
  fmt::print(out, "failures           {}\n", failures.size());
  for (const auto& f : failures)
    fmt::print(out, "failure            {}\n", f);
  return std::fflush(out) == 0 && std::ferror(out) == 0;
}

// -- distributed nodes (runtime/src/net/) ---------------------------------------------------------

constexpr std::chrono::milliseconds node_poll{10};

/// A node of a distributed topology: ships to its peers exactly the types its actors subscribed
/// to (the subscriptions made since `before`); a lost peer under on_node_loss: halt ends the run.
std::unique_ptr<net::node> start_node(caf::actor_system& sys, bus& b, const topology& topo, const std::string& name,
                                      const std::array<std::size_t, event_type_count>& before, run_control& ctl) {
  const auto after = b.subscription_counts();
  std::uint32_t wants = 0;
  for (auto t : all_event_types)
    if (after.at(static_cast<std::size_t>(t)) > before.at(static_cast<std::size_t>(t)))
      wants |= type_bit(t);
  const bool halt = topo.network.on_node_loss == node_loss_policy::halt;
  net::node_callbacks cb{[&ctl] { ctl.cv.notify_all(); },
                         [&ctl, halt](const std::string& why) {
                           if (!halt)
                             return;
                           {
                             std::lock_guard guard{ctl.mu};
                             if (ctl.stop_reason.empty())
                               ctl.stop_reason = why;
                           }
                           ctl.cv.notify_all();
                         }};
  return std::make_unique<net::node>(sys, b, topo.network, name, wants, std::move(cb), before);
}

/// What the steps of a run share once its actors are spawned.
struct live_run {
  const topology& topo;
  const run_options& opts;
  run_control& ctl;
  journal::deterministic_driver& driver;
  bus& b;
  monitor_state& mon;
  journal::journal_writer* jwriter; ///< null: no journal
  net::node* node;                  ///< null: one process
  std::optional<output_file>& stats_out;
  clock::time_point started;
  std::shared_ptr<spdlog::logger> log;
  std::chrono::milliseconds stats_interval;
  std::chrono::milliseconds duration;
};

/// An actor's context: its handles, and the callbacks through which it tells the run that it
/// finished (a producer) or failed.
actor_context make_context(const actor_spec& spec, caf::actor_system& sys, bus& b,
                           const std::shared_ptr<actor_directory>& directory, run_control& ctl) {
  actor_context ctx;
  ctx.system = &sys;
  ctx.bus = &b;
  ctx.name = spec.name;
  ctx.source = source_id{spec.name};
  ctx.log = spdlog::default_logger()->clone("libra." + spec.name);
  ctx.directory = directory;
  ctx.conflate = spec.conflate;
  auto once = std::make_shared<std::atomic<bool>>(false);
  const bool producer = spec.producer;
  ctx.finished = [&ctl, once, producer] {
    if (!producer || once->exchange(true))
      return;
    {
      std::lock_guard guard{ctl.mu};
      --ctl.producers_left;
    }
    ctl.cv.notify_all();
  };
  ctx.failed = [&ctl, once, producer, name = spec.name](const std::string& why) {
    {
      std::lock_guard guard{ctl.mu};
      ctl.failures.push_back(fmt::format("actor '{}' failed: {}", name, why));
      if (producer && !once->exchange(true))
        --ctl.producers_left;
    }
    ctl.cv.notify_all();
  };
  return ctx;
}

/// Waits for the end: all producers finished, a failure, a signal, or the duration; a progress
/// line (and a --stats-json line) per interval meanwhile. Returns why it ended and how many
/// failures there were by then.
std::pair<std::string, std::size_t> wait_for_end(live_run& r) {
  const auto& topo = r.topo;
  const auto& opts = r.opts;
  auto& ctl = r.ctl;
  auto& driver = r.driver;
  auto& b = r.b;
  auto* mon = &r.mon;
  auto* jwriter = r.jwriter;
  auto* node = r.node;
  auto& stats_out = r.stats_out;
  const auto started = r.started;
  const auto stats_interval = r.stats_interval;
  const auto duration = r.duration;
  const auto& log = r.log;
  std::string reason = "end of data";
  std::size_t failures_at_stop = 0;
  {
    std::uint64_t last_published = 0;
    auto last_tick = clock::now();
    auto journal_written = last_tick;
    std::unique_lock lock{ctl.mu};
    for (;;) {
      if (!ctl.failures.empty()) {
        reason = ctl.failures.front();
        break;
      }
      if (ctl.producers_left == 0 && (!node || node->finished()))
        break;
      if (!ctl.stop_reason.empty()) {
        reason = ctl.stop_reason;
        break;
      }
      if (ctl.signal_seen != 0) {
        reason = signal_name(ctl.signal_seen);
        break;
      }
      if (duration.count() > 0 && clock::now() - started >= duration) {
        reason = "duration reached";
        break;
      }
      if (driver.active()) {
        // Nothing runs unless this thread runs it; the callbacks of the actors take ctl.mu.
        lock.unlock();
        const bool progressed = driver.step();
        if (jwriter != nullptr && clock::now() - journal_written >= journal::journal_writer::linger) {
          // The journal actor has no linger timer here (it would move virtual time).
          jwriter->write_pending();
          journal_written = clock::now();
        }
        lock.lock();
        if (!progressed && ctl.producers_left > 0 && ctl.failures.empty())
          ctl.failures.emplace_back("deterministic run stalled: no job and no timer left, producers not finished");
      } else {
        // A node whose own data is done checks, every few ms, whether every node's is.
        const bool polling = node && ctl.producers_left == 0;
        ctl.cv.wait_for(lock,
                        polling ? std::min<std::chrono::milliseconds>(stats_interval, node_poll) : stats_interval);
        if (polling) {
          lock.unlock();
          node->poll();
          lock.lock();
        }
      }
      const auto now = clock::now();
      if (now - last_tick < stats_interval)
        continue;
      const auto failures = ctl.failures.size();
      lock.unlock();
      const auto s = b.stats();
      if (opts.progress)
        print_progress(std::chrono::duration<double>(now - started).count(),
                       std::chrono::duration<double>(now - last_tick).count(), last_published, s, *mon);
      if (stats_out
          && !stats_out->write(stats_json_line(topo, nullptr, std::chrono::duration<double>(now - started).count(), s,
                                               s.dropped, failures, *mon, jwriter, node)))
        ctl.fail(fmt::format("--stats-json: writing '{}' failed: {}", opts.stats_json, stats_out->error()));
      last_published = s.published;
      last_tick = now;
      lock.lock();
    }
    ctl.stopping = true;
    failures_at_stop = ctl.failures.size();
  }
  if (node)
    node->closing();
  if (failures_at_stop != 0)
    log->error("stopping: {}", reason);
  else
    log->info("stopping: {}", reason);
  return {reason, failures_at_stop};
}

struct drain_result {
  std::uint64_t dropped = 0; ///< events bus::stop() discarded at the deadline
  bool all_ended = true;     ///< every actor ended within the budget
};

/// Shutdown: drain_timeout_ms is the budget of all of it (producers stopping, the bus settling
/// and draining, the actors ending), not of each phase.
drain_result drain(live_run& r, const std::vector<std::pair<std::string, caf::actor>>& spawned,
                   const std::function<void()>& end_all, const caf::actor& watcher) {
  const auto& topo = r.topo;
  auto& ctl = r.ctl;
  auto& driver = r.driver;
  auto& b = r.b;
  auto* jwriter = r.jwriter;
  const auto& log = r.log;
  const auto deadline = clock::now() + topo.bus.default_drain_timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds{0},
                    std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()));
  };
  // Everyone hears halt (strategies announce STRATEGY_STOPPED); producers stop publishing.
  for (auto& [name, a] : spawned)
    caf::anon_send(a, halt_atom::value);
  driver.run_until([&] {
    std::lock_guard guard{ctl.mu};
    return ctl.producers_left == 0;
  });
  {
    std::unique_lock lock{ctl.mu};
    if (!ctl.cv.wait_until(lock, deadline, [&] { return ctl.producers_left == 0; }))
      log->warn("{} producers did not finish within the drain timeout", ctl.producers_left);
  }
  // Settle: events cause events (tick -> signal -> order -> fill -> position), some through
  // direct actor messages the bus cannot see; wait until a quiet bus stays quiet.
  while (clock::now() < deadline) {
    const auto before = b.stats().published;
    if (!b.wait_idle(left()))
      break;
    if (b.wait_idle(std::min(left(), std::chrono::milliseconds{50})) && b.stats().published == before)
      break;
  }
  driver.run_jobs();
  const auto dropped = b.stop(left());
  end_all();
  driver.run_jobs();
  // The actors end (the recorder's last write, its errors): within the budget, plus a moment
  // for those told to exit when the budget is spent (ending takes microseconds when healthy).
  bool all_ended = true;
  {
    std::unique_lock lock{ctl.mu};
    const auto end_by = std::max(deadline, clock::now() + actor_end_grace);
    if (!ctl.cv.wait_until(lock, end_by, [&] { return ctl.actors_down == spawned.size(); })) {
      ctl.failures.push_back(fmt::format("{} of {} actors did not end within the drain timeout",
                                         spawned.size() - ctl.actors_down, spawned.size()));
      all_ended = false;
    }
  }
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  // The bus is stopped: no journal append starts again. Its last batch written, fsynced, closed.
  if (jwriter && !jwriter->close()) {
    std::lock_guard guard{ctl.mu};
    if (std::find(ctl.failures.begin(), ctl.failures.end(), jwriter->error()) == ctl.failures.end())
      ctl.failures.push_back(jwriter->error());
  }
  return drain_result{dropped, all_ended};
}

/// The last --stats-json line, the node's and the run's summaries; the exit code.
int report(live_run& r, const std::string& reason, std::size_t failures_at_stop, const drain_result& d) {
  const auto& topo = r.topo;
  const auto& opts = r.opts;
  auto& ctl = r.ctl;
  auto* mon = &r.mon;
  auto* jwriter = r.jwriter;
  auto* node = r.node;
  auto& stats_out = r.stats_out;
  const auto& log = r.log;
  const auto& b = r.b;
  const auto dropped = d.dropped;
  const auto wall = std::chrono::duration<double>(clock::now() - r.started).count();
  const auto s = b.stats();
  std::vector<std::string> failures;
  {
    std::lock_guard guard{ctl.mu};
    failures = ctl.failures;
  }
  if (stats_out
      && !stats_out->write(stats_json_line(topo, &reason, wall, s, dropped, failures.size(), *mon, jwriter, node)))
    failures.push_back(fmt::format("--stats-json: writing '{}' failed: {}", opts.stats_json, stats_out->error()));
  for (auto i = failures_at_stop; i < failures.size(); ++i)
    log->error("failure after the run ended: {}", failures[i]);
  int rc = failures.empty() ? exit_ok : exit_failure;
  if (node)
    node->print_summary(opts.summary != nullptr ? opts.summary : stdout);
  if (!print_summary(opts.summary != nullptr ? opts.summary : stdout, topo, reason, wall, s, dropped, failures, *mon,
                     jwriter)) {
    // The summary is an output too: losing it is a failure, like any other write.
    log->error("writing the summary failed: {}", std::strerror(errno));
    rc = exit_failure;
  }
  if (!d.all_ended) {
    // A stuck actor would hold ~actor_system forever: the budget is kept, output is flushed.
    std::fflush(nullptr);
    std::_Exit(rc);
  }
  return rc;
}

} // namespace

int run_topology(const topology& topo, const run_options& opts) {
  signal_watch::block_in_this_thread();
  spdlog::set_level(spdlog::level::from_str(topo.log_level));
  auto log = spdlog::default_logger()->clone("libra.runtime");
  const auto stats_interval = opts.stats_interval.value_or(topo.stats_interval);
  const auto duration = opts.duration.value_or(topo.duration);

  // Opened and locked before anything starts: an unusable path is refused, nothing is run.
  std::optional<output_file> stats_out;
  if (!opts.stats_json.empty()) {
    try {
      stats_out.emplace(output_file::open(opts.stats_json));
    } catch (const output_error& err) {
      fmt::print(stderr, "libra-runtime: error: --stats-json: {}\n", err.what());
      return exit_bad_input;
    }
  }

  const bool deterministic = topo.deterministic || opts.deterministic;
  // The journal too: its directory is locked and a torn tail repaired before anything runs.
  std::shared_ptr<journal::journal_writer> jwriter;
  if (topo.journal || !opts.journal.empty()) {
    auto jc = topo.journal.value_or(journal::journal_config{});
    if (!opts.journal.empty())
      jc.dir = opts.journal;
    jc.deterministic = deterministic;
    try {
      jwriter = std::make_shared<journal::journal_writer>(std::move(jc));
    } catch (const journal::journal_error& err) {
      fmt::print(stderr, "libra-runtime: error: {}; nothing was run\n", err.what());
      return exit_bad_input;
    }
    for (const auto& note : jwriter->notes())
      log->warn("journal '{}': {}", jwriter->config().dir.string(), note);
  }

  // Declared before the actor system: actors may call finished()/failed() until it is gone.
  run_control ctl;
  for (const auto& a : topo.actors)
    ctl.producers_left += a.producer ? 1 : 0;
  signal_watch signals{[&](int sig) {
    {
      std::lock_guard guard{ctl.mu};
      if (ctl.signal_seen != 0 || ctl.stopping) {
        // A second Ctrl-C (or one during the drain) means "now": say what that costs, then go.
        fmt::print(stderr, "libra-runtime: {} during shutdown: exiting now without drain or summary\n",
                   signal_name(sig));
        std::fflush(nullptr);
        std::_Exit(128 + sig);
      }
      ctl.signal_seen = sig;
    }
    ctl.cv.notify_all();
  }};

  caf::actor_system_config cfg;
  configure_system(cfg, topo.workers, topo.idle);
  if (deterministic)
    journal::configure_deterministic(cfg);
  if (!opts.node.empty())
    net::node::configure(cfg, topo.network, opts.node);
  caf::actor_system sys{cfg};
  // Inactive unless deterministic: then this thread runs every actor (journal/deterministic.hpp).
  journal::deterministic_driver driver{sys};
  if (driver.active())
    trace_context::seed_thread_ids(journal::deterministic_id_seed);

  const auto started = clock::now();
  bus b{sys, topo.bus};
  auto mon = std::make_shared<monitor_state>();
  auto monitor = sys.spawn(monitor_actor, mon);
  for (auto t : all_event_types)
    b.subscribe(t, monitor);
  caf::actor journal_actor;
  if (jwriter)
    journal_actor = journal::spawn_journal(
      sys, b, jwriter, [&ctl](const std::string& why) { ctl.fail(why); }, !deterministic);

  const auto subscriptions_before = b.subscription_counts(); // the runtime's own: not shipped to peers
  auto directory = std::make_shared<actor_directory>();
  std::vector<std::pair<std::string, caf::actor>> spawned;
  caf::actor watcher;
  auto end_all = [&] {
    // The directory holds strong handles: an actor that kept its context would keep itself alive.
    directory->clear();
    for (auto& [name, a] : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
    if (journal_actor)
      caf::anon_send_exit(journal_actor, caf::exit_reason::user_shutdown);
  };
  // A refused start: what was started ends before what it uses goes (the bus, ctl: locals of
  // this function; a gateway publishing when the bus was destroyed corrupted the heap).
  auto end_refused = [&] {
    b.stop(std::chrono::milliseconds{0});
    end_all();
    if (driver.active()) {
      driver.run_jobs();
      return;
    }
    caf::scoped_actor self{sys};
    std::size_t left = 0;
    auto watch = [&](const caf::actor& a) {
      if (a) {
        self->monitor(a); // a down message at once if it has ended already
        ++left;
      }
    };
    for (auto& [name, a] : spawned)
      watch(a);
    watch(monitor);
    watch(journal_actor);
    const auto end_by = clock::now() + refused_end_grace;
    for (; left > 0; --left) {
      bool down = false;
      const auto wait =
        std::max(std::chrono::milliseconds{0}, std::chrono::ceil<std::chrono::milliseconds>(end_by - clock::now()));
      self->receive([&](const caf::down_msg&) { down = true; }, caf::after(wait) >> [] {});
      if (!down) {
        log->warn("{} actors did not end within {} ms of the refused start", left, refused_end_grace.count());
        break;
      }
    }
  };
  for (const auto& spec : topo.actors) {
    auto ctx = make_context(spec, sys, b, directory, ctl);
    mon->reports.emplace_back(spec.name, ctx.report);
    int refused = 0;
    try {
      auto a = spec.spawn(ctx);
      if (!a)
        throw std::runtime_error("factory returned no actor");
      directory->add(spec.name, a);
      spawned.emplace_back(spec.name, a);
    } catch (const output_error& ex) {
      // An output that cannot be used (locked, special, unwritable): refused as bad input.
      fmt::print(stderr, "libra-runtime: error: actor '{}' ({}): {}; nothing was run\n", spec.name, spec.type,
                 ex.what());
      refused = exit_bad_input;
    } catch (const std::exception& ex) {
      log->error("actor '{}' ({}) failed to start: {}; stopping what was started", spec.name, spec.type, ex.what());
      refused = exit_failure;
    }
    if (refused != 0) {
      end_refused();
      return refused;
    }
  }
  // A distributed node: listen, connect to the peers, exchange subscriptions; before anything runs.
  std::unique_ptr<net::node> node;
  if (!opts.node.empty()) {
    node = start_node(sys, b, topo, opts.node, subscriptions_before, ctl);
    int refused = 0;
    if (auto err = node->listen()) {
      fmt::print(stderr, "libra-runtime: error: {}; nothing was run\n", *err);
      refused = exit_bad_input;
    } else if (!node->wait_connected([&ctl] {
                 std::lock_guard guard{ctl.mu};
                 return ctl.signal_seen != 0;
               })) {
      std::lock_guard guard{ctl.mu};
      if (ctl.signal_seen == 0) {
        fmt::print(stderr,
                   "libra-runtime: error: node '{}': peer node {} not reachable within {:.1f} s (or lost while "
                   "connecting); nothing was run\n",
                   opts.node, fmt::join(node->unreachable(), ", "),
                   std::chrono::duration<double>(topo.network.connect_timeout).count());
        refused = exit_unreachable;
      } else {
        log->info("{} while connecting to the peer nodes: nothing was run", signal_name(ctl.signal_seen));
        refused = -1;
      }
    }
    if (refused != 0) {
      end_refused();
      return refused < 0 ? exit_ok : refused;
    }
  }
  // Metrics, once everything they read exists; destroyed (its threads joined) before any of it.
  std::unique_ptr<metrics_server> metrics;
  if (!opts.metrics.empty() || topo.metrics) {
    const auto address = opts.metrics.empty() ? topo.metrics->listen : opts.metrics;
    try {
      metrics = std::make_unique<metrics_server>(
        address, metrics_sources{.b = &b,
                                 .mon = mon.get(),
                                 .journal = jwriter.get(),
                                 .node = node.get(),
                                 .started = started,
                                 .names = subscriber_names(spawned, monitor, journal_actor)});
      log->info("metrics on http://{}:{}/metrics", address.substr(0, address.rfind(':')), metrics->port());
    } catch (const metrics_error& err) {
      if (topo.metrics && topo.metrics->required) {
        fmt::print(stderr, "libra-runtime: error: {} (metrics.required: true); nothing was run\n", err.what());
        end_refused();
        return exit_bad_input;
      }
      log->warn("{}: running without metrics (metrics.required: true would refuse to run)", err.what());
    }
  }
  watcher = sys.spawn(watcher_actor, spawned, &ctl);
  log->info("{} actors started from {} ({} producers)", spawned.size(), topo.file.string(), ctl.producers_left);
  b.start();
  if (stats_out && !stats_out->truncate())
    ctl.fail(fmt::format("--stats-json: writing '{}' failed: {}", opts.stats_json, stats_out->error()));
  for (auto& [name, a] : spawned)
    caf::anon_send(a, run_atom::value);

  live_run run{topo,      opts,    ctl, driver,         b,       *mon, jwriter.get(), node.get(),
               stats_out, started, log, stats_interval, duration};
  const auto [reason, failures_at_stop] = wait_for_end(run);
  const auto d = drain(run, spawned, end_all, watcher);
  return report(run, reason, failures_at_stop, d);
}

caf::behavior monitor_actor(caf::event_based_actor* /*self*/, std::shared_ptr<monitor_state> st) {
  return {on_events(
    [st](const event& e) { st->by_type[static_cast<std::size_t>(e.type())].fetch_add(1, std::memory_order_relaxed); })};
}

} // namespace libra::core
