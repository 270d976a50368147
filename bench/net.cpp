// libra-bench-net: two libra buses in two processes on 127.0.0.1 joined by libra::net::node
// (issue 14), beside the same bus in one process and beside CAF's own remote send.
//
// The program forks before any actor system exists: the parent is node A (it publishes and drives
// every trial), the child node B (it only subscribes). Each has its own caf::actor_system (2
// workers, configure_system) with the middleman, and per link window W (--windows, default 1, 4,
// 8, 32) its own bus and libra::net::node pair on free loopback ports: the window is fixed when a
// node is made, so each W is a separate pair ("rig"), built once and kept for the run. On B, one
// sink actor per rig subscribes to TICK and CIRCUIT_BREAKER. B also publishes a raw CAF sink
// actor (middleman().publish) that A reaches with remote_actor: the baseline sends it one
// 128-byte std::string per event (a built-in type: nothing to register), CAF's remote send
// without batching. A has one more bus with a sink of its own: the in-process baseline.
//
// The two processes share one anonymous MAP_SHARED block, mapped before the fork: every sink
// (A's in-process one included) counts into it and writes its timestamps there, and A reads them.
// Times are steady_clock, i.e. CLOCK_MONOTONIC, which is one clock for the whole machine on Linux,
// so a time taken on A and one taken on B subtract. Only one trial runs at a time; A resets the
// block before each. Two pipes order the start (B: "connected") and the end (A closes: "done").
//
// Measured, each part interleaved trial by trial (odd rounds in reverse order), after a warm-up
// round that is not recorded:
//  a. events/s: N ticks published as fast as the bus takes them (retrying while full) -> the
//     N-th handled by a counting sink: in-process bus, node -> node per W, raw CAF remote send.
//     Also the CPU seconds each process spent per wall second of a node trial (/proc/PID/stat).
//  b. RISK behind a backlog across the wire: B's sink spins --spin-us (1 us) per tick; A publishes
//     --backlog ticks, waits until B has handled 1% of them, then publishes a CIRCUIT_BREAKER:
//     publish -> B's handler of it, and how many ticks B handled after it. Per W, beside raw CAF:
//     the same ticks, then the breaker sent with message_priority::high (dropped on the wire,
//     docs/caf-0.17.md, 5). Controls in the same rounds: the breaker alone (no backlog) on
//     the default node pair, on raw CAF and on the in-process bus, the floor of each path then.
//     Also noted: how many ticks A's link had not yet sent when the breaker was published.
//  c. publish -> remote handler at --rate (100k ev/s) offered: event i is due at t0 + i/rate, A
//     spins until then and publishes; the sink records now - due (coordinated omission corrected,
//     as libra-bench-latency), at the default W, beside the in-process bus and raw CAF remote.
//  Also, on A alone: the cost of the link's wire format, journal::encode_record and
//  decode_record per tick, and bytes per tick on the wire.
#include "common.hpp"

#include "core/topology.hpp"
#include "journal/codec.hpp"
#include "net/node.hpp"

#include <libra/system_config.hpp>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace {

using namespace libra;
using namespace libra::bench;
using namespace std::chrono_literals;

struct options {
  std::size_t events = 100'000; // part a, per trial
  std::size_t trials = 5;       // part a
  std::size_t backlog = 100'000;
  std::size_t risk_trials = 7;
  double spin_us = 1.0;
  double rate = 100'000; // part c
  double seconds = 0.5;  // part c, per trial
  std::size_t latency_trials = 3;
  std::vector<std::uint32_t> windows{1, 4, 8, 32};
  double timeout_s = 60;
  bool quick = false;
  std::string json;
};

// Goals (issue 14).
constexpr double goal_vs_local = 0.5;
constexpr double goal_vs_caf = 5;
constexpr double goal_risk_p50_ns = 100'000;
constexpr double goal_risk_p90_ns = 300'000;
constexpr double goal_risk_ratio = 20;

constexpr std::size_t max_samples = 1U << 21; // part c: events per trial (8 bytes each, shared)
constexpr std::size_t raw_event_bytes = 128;

// -- the block both processes share ----------------------------------------------------------------

enum class sink_mode : int { count, slow, latency };

// The block lives in memory both processes map: only lock-free atomics work there (a lock would be
// a process-local object).
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free
              && std::atomic<std::int64_t>::is_always_lock_free && std::atomic<double>::is_always_lock_free);

/// What the sinks report to A. One trial at a time, one sink handling it (one writer); A resets it
/// between trials while every sink is idle.

struct shared_block {
  std::atomic<int> mode{0};
  std::atomic<std::int64_t> spin_ns{1000};
  std::atomic<std::uint64_t> target{0}; // the tick whose handling time is kept
  std::atomic<std::uint64_t> ticks{0};
  std::atomic<std::int64_t> last_ns{0};
  std::atomic<std::uint64_t> breakers{0};
  std::atomic<std::int64_t> breaker_sent_ns{0};
  std::atomic<std::int64_t> breaker_latency_ns{0};
  std::atomic<std::uint64_t> ticks_at_breaker{0};
  std::atomic<std::int64_t> t0_ns{0};
  std::atomic<double> period_ns{0};
  std::array<std::int64_t, max_samples> latency{}; // part c, written before `ticks` (release)
};

std::int64_t now_ns() { return bench_clock::now().time_since_epoch().count(); }

/// Every sink, in either process: one handler call.
void sink_event(shared_block& sh, bool breaker) {
  if (breaker) {
    sh.breaker_latency_ns.store(now_ns() - sh.breaker_sent_ns.load(std::memory_order_acquire));
    sh.ticks_at_breaker.store(sh.ticks.load(std::memory_order_relaxed));
    sh.breakers.fetch_add(1, std::memory_order_release);
    return;
  }
  const auto m = static_cast<sink_mode>(sh.mode.load(std::memory_order_relaxed));
  if (m == sink_mode::slow)
    spin_for(std::chrono::nanoseconds{sh.spin_ns.load(std::memory_order_relaxed)});
  const auto i = sh.ticks.load(std::memory_order_relaxed);
  if (m == sink_mode::latency && i < max_samples) {
    const auto due = sh.t0_ns.load(std::memory_order_relaxed)
                     + static_cast<std::int64_t>(static_cast<double>(i) * sh.period_ns.load(std::memory_order_relaxed));
    sh.latency.at(i) = now_ns() - due;
  }
  if (i + 1 == sh.target.load(std::memory_order_relaxed))
    sh.last_ns.store(now_ns(), std::memory_order_relaxed);
  sh.ticks.store(i + 1, std::memory_order_release);
}

caf::behavior bus_sink(caf::event_based_actor* /*self*/, shared_block* sh) {
  return {on_events([sh](const event& e) { sink_event(*sh, e.type() == event_type::circuit_breaker); })};
}

caf::behavior raw_remote_sink(caf::event_based_actor* /*self*/, shared_block* sh) {
  return {[sh](const std::string& e) { sink_event(*sh, !e.empty() && e[0] == 'B'); }};
}

/// Allocated before the fork, shared by both processes (no raw new: an mmap'd region, placement
/// constructed, unmapped by the owner of the handle).
class shared_mapping {
public:
  shared_mapping() {
    void* p = mmap(nullptr, sizeof(shared_block), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) // NOLINT: the C API's sentinel
      throw std::runtime_error("mmap of the shared block failed");
    block_ = std::construct_at(static_cast<shared_block*>(p));
  }
  shared_mapping(const shared_mapping&) = delete;
  shared_mapping& operator=(const shared_mapping&) = delete;
  ~shared_mapping() {
    std::destroy_at(block_);
    munmap(block_, sizeof(shared_block));
  }
  shared_block& get() { return *block_; }

private:
  shared_block* block_ = nullptr;
};

// -- ports, processes ----------------------------------------------------------------------------

/// n loopback ports free now: each socket bound to port 0 is held until all are picked, so the n
/// are distinct; the nodes bind them (with reuse) a moment later.
std::vector<std::uint16_t> free_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 // NOLINT: socket API
        || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)       // NOLINT: socket API
      throw std::runtime_error("cannot pick a free loopback port");
    fds.push_back(fd);
    out.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds)
    close(fd);
  return out;
}

/// CPU seconds (user + system) process `pid` has used: /proc/PID/stat, 10 ms resolution.
double cpu_seconds(pid_t pid) {
  std::ifstream f{fmt::format("/proc/{}/stat", pid)};
  std::string all{std::istreambuf_iterator<char>{f}, std::istreambuf_iterator<char>{}};
  const auto paren = all.rfind(')');
  if (paren == std::string::npos)
    return 0;
  std::istringstream rest{all.substr(paren + 2)};
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; rest >> field; ++i) { // field 3 is the state; 14 utime, 15 stime
    if (i == 14)
      utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// -- the nodes ----------------------------------------------------------------------------------

/// Node "a" and node "b" of one rig, filled in by hand as a topology's `nodes:`/`network:` would.
core::network_spec rig_spec(std::uint16_t port_a, std::uint16_t port_b, std::uint32_t window) {
  core::network_spec net;
  net.nodes = {core::node_spec::on_loopback("a", port_a), core::node_spec::on_loopback("b", port_b)};
  net.connect_timeout = 20'000ms;
  // Both processes spin on 2 shared cores: a heartbeat can be late by far more than the default
  // 500 ms timeout allows, and this benchmark is not about detecting loss.
  net.heartbeat_interval = 100ms;
  net.heartbeat_timeout = 10'000ms;
  net.window = window;
  net.actor_nodes = {{"gateway.bench", "a"}, {"risk.bench", "a"}};
  return net;
}

bus_config bench_bus_config(const char* name) {
  bus_config c;
  c.capacity = 1'000'000; // the backlog waits at B's bus (MARKET_DATA may use 80%)
  c.name = name;
  return c;
}

struct rig {
  std::uint32_t window = 0;
  core::network_spec spec;
  std::unique_ptr<bus> b;
  caf::actor sink; // B only
  std::unique_ptr<net::node> nd;
  std::optional<publisher> pub; // A only
};

void connect_rigs(std::vector<rig>& rigs) {
  for (auto& r : rigs)
    if (auto err = r.nd->listen())
      throw bench_failure(*err);
  for (auto& r : rigs)
    if (!r.nd->wait_connected([] { return false; }))
      throw bench_failure(fmt::format("W={}: the peer node did not connect", r.window));
}

void close_rigs(std::vector<rig>& rigs) {
  for (auto& r : rigs)
    r.nd->closing();
  // The bus stops first: its subscribers (the sink, the link) leaving afterwards is no news to it.
  for (auto& r : rigs) {
    r.pub.reset();
    r.b->stop(std::chrono::milliseconds{0});
    r.nd.reset();
    if (r.sink)
      caf::anon_send_exit(r.sink, caf::exit_reason::user_shutdown);
    r.b.reset();
  }
}

struct ports {
  std::vector<std::uint16_t> a, b; // per window
  std::uint16_t raw = 0;
};

/// Node B: subscribes, connects, reports "connected" on ready_fd, and runs until done_fd closes.
int run_node_b(const options& opt, const ports& pt, shared_block& sh, int ready_fd, int done_fd) {
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  net::node::configure(cfg, rig_spec(pt.a[0], pt.b[0], opt.windows[0]));
  caf::actor_system sys{cfg};
  std::vector<rig> rigs;
  int rc = 0;
  try {
    for (std::size_t i = 0; i < opt.windows.size(); ++i) {
      rig r{opt.windows[i], rig_spec(pt.a[i], pt.b[i], opt.windows[i]), {}, {}, {}, {}};
      r.b = std::make_unique<bus>(sys, bench_bus_config("bench.net.b"));
      r.sink = sys.spawn(bus_sink, &sh);
      r.b->subscribe(event_type::tick, r.sink);
      r.b->subscribe(event_type::circuit_breaker, r.sink);
      r.b->start();
      r.nd = std::make_unique<net::node>(sys, *r.b, r.spec, "b",
                                         type_bit(event_type::tick) | type_bit(event_type::circuit_breaker),
                                         net::node_callbacks{});
      rigs.push_back(std::move(r));
    }
    auto raw = sys.spawn(raw_remote_sink, &sh);
    if (auto p = sys.middleman().publish(raw, pt.raw, "127.0.0.1", true); !p)
      throw bench_failure("B: cannot publish the raw CAF sink: " + sys.render(p.error()));
    connect_rigs(rigs);
    const char ok = '1';
    if (write(ready_fd, &ok, 1) != 1)
      throw bench_failure("B: cannot report ready");
    char c = 0;
    while (read(done_fd, &c, 1) > 0) { // until A closes its end
    }
    caf::anon_send_exit(raw, caf::exit_reason::user_shutdown);
    // A waits for this before its middleman goes away: then neither side logs the other as lost.
    for (auto& r : rigs)
      r.nd->closing();
    const char closing = '2';
    if (write(ready_fd, &closing, 1) != 1)
      throw bench_failure("B: cannot report closing");
  } catch (const std::exception& e) {
    fmt::print(stderr, "libra-bench-net (node B): FAILED: {}\n", e.what());
    rc = 2;
  }
  close_rigs(rigs);
  return rc;
}

// -- node A: the trials ---------------------------------------------------------------------------

struct node_a {
  const options& opt;
  shared_block& sh;
  pid_t child;
  caf::actor_system& sys;
  std::vector<rig> rigs;
  std::unique_ptr<bus> local;
  caf::actor local_sink;
  std::optional<publisher> local_pub;
  caf::actor raw;
  std::size_t default_rig = 0;
  std::vector<event> ticks;
  event breaker = event::create(event_type::circuit_breaker, "risk.bench",
                                risk{risk_rule::circuit_breaker,
                                     {},
                                     0.05,
                                     0.07,
                                     std::make_shared<const std::string>("bench: drawdown 7% > 5%, trading halted")});
  std::string raw_tick = std::string(raw_event_bytes, 'T');
  std::string raw_breaker = std::string(raw_event_bytes, 'B');

  bench_clock::time_point deadline() const {
    return bench_clock::now()
           + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(opt.timeout_s));
  }

  void reset(sink_mode m, std::uint64_t target) {
    sh.mode.store(static_cast<int>(m));
    sh.spin_ns.store(static_cast<std::int64_t>(opt.spin_us * 1e3));
    sh.target.store(target);
    sh.ticks.store(0);
    sh.last_ns.store(0);
    sh.breakers.store(0);
    sh.breaker_latency_ns.store(0);
    sh.ticks_at_breaker.store(0);
  }

  template <class Pred>
  void wait_for(Pred done, const std::string& what) {
    const auto until = deadline();
    while (!done()) {
      if (bench_clock::now() > until)
        throw bench_failure(fmt::format("{}: not done within {} s (sink saw {} ticks, {} breakers)", what,
                                        opt.timeout_s, sh.ticks.load(), sh.breakers.load()));
      std::this_thread::sleep_for(50us);
    }
  }

  static void publish_retrying(publisher& p, const event& e, std::uint64_t& retries) {
    for (;;) {
      const auto r = p.publish(e);
      if (r)
        return;
      if (r.status() == publish_status::closed)
        throw bench_failure("publish refused: the bus is closed");
      ++retries;
      std::this_thread::yield();
    }
  }

  /// One event of a variant: v < rigs.size() a node rig, then the in-process bus, then raw CAF.
  void send_one(std::size_t v, std::size_t i, bool urgent, std::uint64_t& retries) {
    if (v < rigs.size())
      publish_retrying(*rigs[v].pub, urgent ? breaker : ticks[i % ticks.size()], retries);
    else if (v == rigs.size())
      publish_retrying(*local_pub, urgent ? breaker : ticks[i % ticks.size()], retries);
    else if (urgent)
      caf::anon_send<caf::message_priority::high>(raw, raw_breaker);
    else
      caf::anon_send(raw, raw_tick);
  }
  std::size_t variants() const { return rigs.size() + 2; }
  std::string name(std::size_t v) const {
    if (v < rigs.size())
      return fmt::format("node -> node, W={}", rigs[v].window);
    return v == rigs.size() ? "in-process bus" : "raw CAF remote send";
  }

  /// After a node trial: every batch acknowledged (nothing left on the link for the next trial),
  /// and the link sent exactly what was published.
  void settle(std::size_t v, std::uint64_t sent_before, std::uint64_t n) {
    if (v >= rigs.size())
      return;
    auto& nd = *rigs[v].nd;
    // The link counts a batch as sent just after sending it: B may have handled it before.
    wait_for(
      [&] {
        const auto s = nd.stats()[0];
        return s.sent - sent_before >= n && s.acked == s.sent;
      },
      name(v) + ": sent and acked");
    if (nd.stats()[0].sent - sent_before != n)
      throw bench_failure(
        fmt::format("{}: the link sent {} events, {} were published", name(v), nd.stats()[0].sent - sent_before, n));
  }
  std::uint64_t link_sent(std::size_t v) const { return v < rigs.size() ? rigs[v].nd->stats()[0].sent : 0; }

  // a. throughput
  struct rate_trial {
    double events_per_s = 0;
    double cpu_a = 0; // CPU seconds per wall second
    double cpu_b = 0;
    std::uint64_t retries = 0;
  };
  rate_trial throughput(std::size_t v, std::size_t n) {
    reset(sink_mode::count, n);
    const auto sent_before = link_sent(v);
    rate_trial t;
    const auto ca = cpu_seconds(getpid());
    const auto cb = cpu_seconds(child);
    const auto t0 = now_ns();
    for (std::size_t i = 0; i < n; ++i)
      send_one(v, i, false, t.retries);
    wait_for([&] { return sh.ticks.load(std::memory_order_acquire) >= n; }, name(v));
    const auto wall = static_cast<double>(sh.last_ns.load() - t0) / 1e9;
    t.events_per_s = static_cast<double>(n) / wall;
    t.cpu_a = (cpu_seconds(getpid()) - ca) / wall;
    t.cpu_b = (cpu_seconds(child) - cb) / wall;
    settle(v, sent_before, n);
    if (sh.ticks.load() != n)
      throw bench_failure(fmt::format("{}: the sink saw {} ticks of {}", name(v), sh.ticks.load(), n));
    return t;
  }

  // b. RISK behind a backlog
  struct risk_trial {
    std::int64_t latency_ns = 0;
    std::uint64_t ticks_after = 0; // handled after the breaker
    std::uint64_t ticks_ahead = 0; // handled between the breaker's publish and its handler
    std::uint64_t not_shipped = 0; // node: ticks A's link had not sent yet when the breaker was published
  };
  risk_trial breaker_trial(std::size_t v, std::size_t n) {
    reset(sink_mode::slow, n);
    const auto sent_before = link_sent(v);
    std::uint64_t retries = 0;
    for (std::size_t i = 0; i < n; ++i)
      send_one(v, i, false, retries);
    // With a backlog, the breaker goes once B is busy with it (1% handled), as libra-bench-priority
    // does; the control (n == 0) sends it alone, the floor of the path at that moment.
    const auto staged_after = n == 0 ? std::size_t{0} : std::max<std::size_t>(1, n / 100);
    wait_for([&] { return sh.ticks.load() >= staged_after; }, name(v) + ": staging");
    const auto shipped = link_sent(v) - sent_before;
    const auto before = sh.ticks.load();
    sh.breaker_sent_ns.store(now_ns(), std::memory_order_release);
    send_one(v, 0, true, retries);
    wait_for([&] { return sh.breakers.load(std::memory_order_acquire) == 1 && sh.ticks.load() == n; }, name(v));
    risk_trial t;
    t.latency_ns = sh.breaker_latency_ns.load();
    t.ticks_after = n - sh.ticks_at_breaker.load();
    t.ticks_ahead = sh.ticks_at_breaker.load() - before;
    t.not_shipped = v < rigs.size() ? n - shipped : 0;
    settle(v, sent_before, n + 1);
    if (sh.breakers.load() != 1 || sh.ticks.load() != n)
      throw bench_failure(
        fmt::format("{}: {} ticks of {}, {} breakers", name(v), sh.ticks.load(), n, sh.breakers.load()));
    return t;
  }

  // c. latency at a fixed offered rate, from each event's due time
  std::vector<std::int64_t> latency(std::size_t v, std::size_t n) {
    reset(sink_mode::latency, n);
    const auto sent_before = link_sent(v);
    const double period = 1e9 / opt.rate;
    const auto t0 = now_ns() + 1'000'000; // 1 ms ahead: the loop starts on time
    sh.t0_ns.store(t0);
    sh.period_ns.store(period);
    std::uint64_t retries = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto due = t0 + static_cast<std::int64_t>(static_cast<double>(i) * period);
      while (now_ns() < due) {
      }
      send_one(v, i, false, retries);
    }
    wait_for([&] { return sh.ticks.load(std::memory_order_acquire) >= n; }, name(v));
    settle(v, sent_before, n);
    return {sh.latency.begin(), sh.latency.begin() + static_cast<std::ptrdiff_t>(n)};
  }
};

struct wire_cost {
  double encode_ns = 0;
  double decode_ns = 0;
  double bytes = 0;
};

/// The link's wire format on this thread: journal records, batches of 256 as node.cpp builds them.
wire_cost measure_wire(const std::vector<event>& ticks) {
  constexpr std::size_t batch = 256;
  std::vector<std::byte> out;
  std::size_t total_bytes = 0;
  const auto n = (ticks.size() / batch) * batch;
  std::vector<std::vector<std::byte>> batches;
  const auto t0 = bench_clock::now();
  for (std::size_t i = 0; i < n; i += batch) {
    out.clear();
    for (std::size_t j = i; j < i + batch; ++j)
      journal::encode_record(ticks[j], out);
    total_bytes += out.size();
    if (batches.size() < 16)
      batches.push_back(out);
  }
  const auto t1 = bench_clock::now();
  std::size_t decoded = 0;
  for (std::size_t i = 0; i < n; i += batch) {
    const auto& bytes = batches[(i / batch) % batches.size()];
    std::span<const std::byte> all{bytes};
    for (std::size_t at = 0, size = 0; at < all.size(); at += size) {
      journal::record r;
      if (auto err = journal::decode_record(all.subspan(at), r, size))
        throw bench_failure("decode: " + *err);
      ++decoded;
    }
  }
  const auto t2 = bench_clock::now();
  if (decoded != n)
    throw bench_failure("decode: wrong count");
  return {static_cast<double>(ns_between(t0, t1)) / static_cast<double>(n),
          static_cast<double>(ns_between(t1, t2)) / static_cast<double>(n),
          static_cast<double>(total_bytes) / static_cast<double>(n)};
}

struct results {
  std::vector<std::vector<node_a::rate_trial>> rate;         // per variant
  std::vector<std::vector<node_a::risk_trial>> risk;         // per variant (in-process: unused)
  std::vector<std::vector<node_a::risk_trial>> risk_control; // no backlog: default node rig, raw CAF
  std::vector<std::vector<std::int64_t>> latency;            // per variant, pooled (only default rig, local, raw)
  wire_cost wire;
};

/// Runs `trial(v)` for each variant in `vs`, `rounds` times after one warm-up, odd rounds reversed.
template <class F>
void interleave(const std::vector<std::size_t>& vs, std::size_t rounds, const char* part, F trial) {
  for (auto v : vs)
    trial(v, false);
  for (std::size_t t = 0; t < rounds; ++t) {
    for (std::size_t i = 0; i < vs.size(); ++i)
      trial(vs[t % 2 == 0 ? i : vs.size() - 1 - i], true);
    fmt::print(stderr, "net: {} round {}/{} done\n", part, t + 1, rounds);
  }
}

std::string met(bool ok) { return ok ? "**met**" : "not met"; }

double median_of(std::vector<double> xs) { return spread_of(std::move(xs)).median; }

void report(node_a& a, const results& r, const options& opt, const environment& env) {
  const auto nv = a.variants();
  const auto local = a.rigs.size();
  const auto raw = a.rigs.size() + 1;
  const auto d = a.default_rig;
  auto rate_of = [&](std::size_t v) {
    std::vector<double> xs;
    for (const auto& t : r.rate[v])
      xs.push_back(t.events_per_s);
    return spread_of(xs);
  };
  // Ratios per round (same round, same machine state), then the median.
  auto ratio_per_round = [&](std::size_t v, std::size_t base) {
    std::vector<double> xs;
    for (std::size_t t = 0; t < r.rate[v].size(); ++t)
      xs.push_back(r.rate[v][t].events_per_s / r.rate[base][t].events_per_s);
    return spread_of(xs);
  };

  print_header("libra-bench-net", env);
  fmt::print("Two processes on 127.0.0.1 (node A publishes, node B subscribes), each its own actor system "
             "(2 workers) with the middleman and its own bus per link window; batch {} events. Ticks of 128 "
             "bytes; raw CAF sends a 128-byte std::string per event to a remote actor.\n\n",
             core::network_spec{}.batch_events);
  fmt::print("### a. Throughput, {} ticks per trial, {} trials (median, min-max), Mev/s\n\n", opt.events, opt.trials);
  fmt::print("| variant | Mev/s | x in-process (per round) | x raw CAF remote (per round) | CPU s per s: A / B |\n"
             "|---|---|---|---|---|\n");
  for (std::size_t v = 0; v < nv; ++v) {
    const auto s = rate_of(v);
    std::vector<double> ca;
    std::vector<double> cb;
    for (const auto& t : r.rate[v]) {
      ca.push_back(t.cpu_a);
      cb.push_back(t.cpu_b);
    }
    const auto vl = ratio_per_round(v, local);
    const auto vr = ratio_per_round(v, raw);
    fmt::print("| {} | {:.3f} ({:.3f}-{:.3f}) | {:.2f} ({:.2f}-{:.2f}) | {:.2f} ({:.2f}-{:.2f}) | {:.2f} / {:.2f} |\n",
               a.name(v), s.median / 1e6, s.min / 1e6, s.max / 1e6, vl.median, vl.min, vl.max, vr.median, vr.min,
               vr.max, median_of(ca), median_of(cb));
  }
  const auto vs_local = ratio_per_round(d, local).median;
  const auto vs_raw = ratio_per_round(d, raw).median;
  fmt::print(
    "\nGoals at the default W={}: node/in-process {:.2f} (>= {}: {}), node/raw CAF remote {:.2f} (>= {}: {})\n",
    a.rigs[d].window, vs_local, goal_vs_local, met(vs_local >= goal_vs_local), vs_raw, goal_vs_caf,
    met(vs_raw >= goal_vs_caf));
  fmt::print("\nWire format (A's thread alone): encode_record {:.1f} ns/tick, decode_record {:.1f} ns/tick, {:.0f} "
             "bytes/tick.\n",
             r.wire.encode_ns, r.wire.decode_ns, r.wire.bytes);

  fmt::print("\n### b. CIRCUIT_BREAKER behind {} ticks at B ({} us each), {} trials: publish on A -> handler on B\n\n",
             opt.backlog, opt.spin_us, opt.risk_trials);
  fmt::print("| variant | p50 us | p90 us | max us | ticks handled after it, median (min) | ticks handled ahead, "
             "median (max) | ticks not yet sent by A's link at the breaker, median | raw CAF p50 / this p50 (per "
             "round) |\n|---|---|---|---|---|---|---|---|\n");
  auto lat_of = [](const std::vector<node_a::risk_trial>& ts) {
    std::vector<std::int64_t> xs;
    for (const auto& t : ts)
      xs.push_back(t.latency_ns);
    return xs;
  };
  auto lat = [&](std::size_t v) { return lat_of(r.risk[v]); };
  auto by = [](const std::vector<node_a::risk_trial>& ts, auto f) {
    std::vector<double> xs;
    for (const auto& t : ts)
      xs.push_back(static_cast<double>(f(t)));
    return spread_of(xs);
  };
  auto risk_ratio = [&](std::size_t v) {
    std::vector<double> xs;
    for (std::size_t t = 0; t < r.risk[v].size(); ++t)
      xs.push_back(static_cast<double>(r.risk[raw][t].latency_ns) / static_cast<double>(r.risk[v][t].latency_ns));
    return spread_of(xs);
  };
  auto row = [&](const std::string& what, const std::vector<node_a::risk_trial>& ts, bool node,
                 const std::string& ratio) {
    const auto p = percentiles_of(lat_of(ts));
    const auto after = by(ts, [](const auto& t) { return t.ticks_after; });
    const auto ahead = by(ts, [](const auto& t) { return t.ticks_ahead; });
    const auto unsent = by(ts, [](const auto& t) { return t.not_shipped; });
    fmt::print("| {} | {} | {} | {} | {:.0f} ({:.0f}) | {:.0f} ({:.0f}) | {} | {} |\n", what, us(p.p50), us(p.p90),
               us(p.max), after.median, after.min, ahead.median, ahead.max,
               node ? fmt::format("{:.0f}", unsent.median) : std::string{"-"}, ratio);
  };
  for (std::size_t v = 0; v < nv; ++v) {
    if (v == local)
      continue;
    if (v == raw)
      row("raw CAF remote, urgent breaker", r.risk[v], false, "-");
    else
      row(a.name(v), r.risk[v], true, fmt::format("{:.0f}", risk_ratio(v).median));
  }
  row(a.name(d) + ", no backlog (control)", r.risk_control[0], true, "-");
  row("raw CAF remote, no backlog (control)", r.risk_control[1], false, "-");
  row("in-process bus, no backlog (control)", r.risk_control[2], false, "-");
  const auto pd = percentiles_of(lat(d));
  const auto rd = risk_ratio(d).median;
  fmt::print("\nGoals at the default W={}: p50 {} us (<= {:.0f}: {}), p90 {} us (<= {:.0f}: {}), x CAF urgent {:.0f} "
             "(>= {:.0f}: {})\n",
             a.rigs[d].window, us(pd.p50), goal_risk_p50_ns / 1e3, met(pd.p50 <= goal_risk_p50_ns), us(pd.p90),
             goal_risk_p90_ns / 1e3, met(pd.p90 <= goal_risk_p90_ns), rd, goal_risk_ratio, met(rd >= goal_risk_ratio));

  fmt::print("\n### c. Publish -> handler at {:.0f} ev/s offered, {} s x {} trials, from each event's due time\n\n",
             opt.rate, opt.seconds, opt.latency_trials);
  fmt::print("| variant | events | p50 us | p90 us | p99 us | max us |\n|---|---|---|---|---|---|\n");
  for (auto v : {d, local, raw}) {
    const auto p = percentiles_of(r.latency[v]);
    fmt::print("| {} | {} | {} | {} | {} | {} |\n", a.name(v), p.count, us(p.p50), us(p.p90), us(p.p99), us(p.max));
  }
}

std::vector<std::int64_t> risk_latencies(const std::vector<node_a::risk_trial>& ts) {
  std::vector<std::int64_t> xs;
  for (const auto& t : ts)
    xs.push_back(t.latency_ns);
  return xs;
}

std::string write_json(node_a& a, const results& r, const options& opt, const environment& env) {
  const auto local = a.rigs.size();
  const auto raw = a.rigs.size() + 1;
  std::string out;
  libra::json_writer w{out};
  begin_results(w, "libra-bench-net", env);
  w.field("events", opt.events)
    .field("trials", opt.trials)
    .field("backlog", opt.backlog)
    .field("risk_trials", opt.risk_trials)
    .field("spin_ns", opt.spin_us * 1e3)
    .field("rate", opt.rate)
    .field("latency_seconds", opt.seconds)
    .field("latency_trials", opt.latency_trials)
    .field("default_window", a.rigs[a.default_rig].window)
    .key("wire")
    .begin_object()
    .field("encode_ns", r.wire.encode_ns)
    .field("decode_ns", r.wire.decode_ns)
    .field("bytes_per_event", r.wire.bytes)
    .end()
    .key("variants")
    .begin_array();
  for (std::size_t v = 0; v < a.variants(); ++v) {
    w.begin_object().field("name", a.name(v)).field("window", v < a.rigs.size() ? a.rigs[v].window : 0);
    auto rate_list = [&](const char* key, auto&& f) {
      w.key(key).begin_array();
      for (std::size_t t = 0; t < r.rate[v].size(); ++t)
        w.value(f(t));
      w.end();
    };
    rate_list("events_per_s", [&](std::size_t t) { return r.rate[v][t].events_per_s; });
    rate_list("ratio_in_process",
              [&](std::size_t t) { return r.rate[v][t].events_per_s / r.rate[local][t].events_per_s; });
    rate_list("ratio_raw_caf", [&](std::size_t t) { return r.rate[v][t].events_per_s / r.rate[raw][t].events_per_s; });
    auto risk_list = [&](const char* key, auto&& f) {
      w.key(key).begin_array();
      for (const auto& t : r.risk[v])
        w.value(f(t));
      w.end();
    };
    risk_list("risk_latency_ns", [](const auto& t) { return t.latency_ns; });
    risk_list("risk_ticks_after", [](const auto& t) { return t.ticks_after; });
    risk_list("risk_not_shipped_at_breaker", [](const auto& t) { return t.not_shipped; });
    w.key("latency_at_rate");
    write_percentiles(w, percentiles_of(r.latency[v]));
    w.end();
  }
  w.end().key("risk_no_backlog").begin_object().key("node_default_window");
  write_percentiles(w, percentiles_of(risk_latencies(r.risk_control[0])));
  w.key("raw_caf");
  write_percentiles(w, percentiles_of(risk_latencies(r.risk_control[1])));
  w.key("in_process_bus");
  write_percentiles(w, percentiles_of(risk_latencies(r.risk_control[2])));
  w.end().end();
  return out + "\n";
}

int run_node_a(const options& opt, const ports& pt, shared_block& sh, pid_t child, int ready_fd, int done_fd) {
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  net::node::configure(cfg, rig_spec(pt.a[0], pt.b[0], opt.windows[0]));
  caf::actor_system sys{cfg};
  node_a a{opt, sh, child, sys, {}, {}, {}, {}, {}, 0, make_ticks(4096)};
  int rc = 0;
  try {
    const auto default_window = core::network_spec{}.window;
    for (std::size_t i = 0; i < opt.windows.size(); ++i) {
      rig r{opt.windows[i], rig_spec(pt.a[i], pt.b[i], opt.windows[i]), {}, {}, {}, {}};
      r.b = std::make_unique<bus>(sys, bench_bus_config("bench.net.a"));
      r.b->start();
      r.nd = std::make_unique<net::node>(sys, *r.b, r.spec, "a", 0, net::node_callbacks{});
      r.pub.emplace(r.b->make_publisher());
      if (opt.windows[i] == default_window)
        a.default_rig = i;
      a.rigs.push_back(std::move(r));
    }
    a.local = std::make_unique<bus>(sys, bench_bus_config("bench.net.local"));
    a.local_sink = sys.spawn(bus_sink, &sh);
    a.local->subscribe(event_type::tick, a.local_sink);
    a.local->subscribe(event_type::circuit_breaker, a.local_sink);
    a.local->start();
    a.local_pub.emplace(a.local->make_publisher());
    connect_rigs(a.rigs);
    char c = 0;
    if (read(ready_fd, &c, 1) != 1)
      throw bench_failure("node B did not start (see its error above)");
    auto remote = sys.middleman().remote_actor("127.0.0.1", pt.raw);
    if (!remote)
      throw bench_failure("cannot reach B's raw CAF sink: " + sys.render(remote.error()));
    a.raw = *remote;

    results r;
    const auto nv = a.variants();
    r.rate.resize(nv);
    r.risk.resize(nv);
    r.latency.resize(nv);
    std::vector<std::size_t> all(nv);
    for (std::size_t v = 0; v < nv; ++v)
      all[v] = v;
    {
      // The median of 5 runs: one run is ~10 ms, short enough for a burst of the machine's load.
      const auto wire_ticks = make_ticks(64 * 256);
      std::vector<double> enc;
      std::vector<double> dec;
      for (int i = 0; i < 5; ++i) {
        const auto w = measure_wire(wire_ticks);
        enc.push_back(w.encode_ns);
        dec.push_back(w.decode_ns);
        r.wire.bytes = w.bytes;
      }
      r.wire.encode_ns = median_of(enc);
      r.wire.decode_ns = median_of(dec);
    }
    interleave(all, opt.trials, "throughput", [&](std::size_t v, bool keep) {
      auto t = a.throughput(v, opt.events);
      if (keep)
        r.rate[v].push_back(t);
    });
    std::vector<std::size_t> risk_vs;
    for (std::size_t v = 0; v < nv; ++v)
      if (v != a.rigs.size())
        risk_vs.push_back(v);
    // Controls (indices nv, nv + 1, nv + 2): the breaker alone, on the default node rig, on raw
    // CAF and on the in-process bus: the floor of each path at that moment, hop by hop.
    const std::array<std::size_t, 3> control_of{a.default_rig, a.rigs.size() + 1, a.rigs.size()};
    for (std::size_t k = 0; k < control_of.size(); ++k)
      risk_vs.push_back(nv + k);
    r.risk_control.resize(control_of.size());
    interleave(risk_vs, opt.risk_trials, "risk", [&](std::size_t v, bool keep) {
      if (v >= nv) {
        auto t = a.breaker_trial(control_of.at(v - nv), 0);
        if (keep)
          r.risk_control[v - nv].push_back(t);
        return;
      }
      auto t = a.breaker_trial(v, opt.backlog);
      if (keep)
        r.risk[v].push_back(t);
    });
    const auto n = std::min(max_samples, static_cast<std::size_t>(opt.rate * opt.seconds));
    interleave({a.default_rig, a.rigs.size(), a.rigs.size() + 1}, opt.latency_trials, "latency",
               [&](std::size_t v, bool keep) {
                 auto xs = a.latency(v, n);
                 if (keep)
                   r.latency[v].insert(r.latency[v].end(), xs.begin(), xs.end());
               });
    const auto env = probe_environment();
    report(a, r, opt, env);
    if (!opt.json.empty()) {
      write_file(opt.json, write_json(a, r, opt, env));
      fmt::print("\nJSON: {}\n", opt.json);
    }
  } catch (const bench_failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "libra-bench-net: FAILED: {}\n", e.what());
    rc = 2;
  }
  // The end: B marks its nodes closing and says so ('2', or EOF if it is gone) before A's
  // middleman goes away.
  for (auto& r : a.rigs)
    r.nd->closing();
  close(done_fd);
  for (char c = 0; read(ready_fd, &c, 1) == 1 && c != '2';) {
  }
  close_rigs(a.rigs);
  a.local_pub.reset();
  if (a.local)
    a.local->stop(std::chrono::milliseconds{0});
  if (a.local_sink)
    caf::anon_send_exit(a.local_sink, caf::exit_reason::user_shutdown);
  a.local.reset();
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  CLI::App app{"libra-bench-net: two nodes on loopback (libra::net::node) vs one process and vs raw CAF remote"};
  app.add_option("--events", opt.events, "ticks per throughput trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", opt.trials, "throughput trials per variant")->check(CLI::PositiveNumber);
  app.add_option("--backlog", opt.backlog, "ticks ahead of the CIRCUIT_BREAKER")->check(CLI::PositiveNumber);
  app.add_option("--risk-trials", opt.risk_trials, "CIRCUIT_BREAKER trials per variant")->check(CLI::PositiveNumber);
  app.add_option("--spin-us", opt.spin_us, "B's work per tick in the CIRCUIT_BREAKER trials, us")
    ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", opt.rate, "offered events/s in the latency trials")->check(CLI::PositiveNumber);
  app.add_option("--seconds", opt.seconds, "seconds per latency trial")->check(CLI::PositiveNumber);
  app.add_option("--latency-trials", opt.latency_trials, "latency trials per variant")->check(CLI::PositiveNumber);
  app.add_option("--windows", opt.windows, "link windows (network.window), one node pair each")
    ->delimiter(',')
    ->check(CLI::PositiveNumber);
  app.add_option("--timeout", opt.timeout_s, "seconds before a trial counts as hung")->check(CLI::PositiveNumber);
  const bench_cli cli{app, opt.quick, opt.json, "fewer events and trials"};
  CLI11_PARSE(app, argc, argv);
  cli.quick("--events", opt.events, 20'000)
    .quick("--trials", opt.trials, 2)
    .quick("--backlog", opt.backlog, 10'000)
    .quick("--risk-trials", opt.risk_trials, 3)
    .quick("--seconds", opt.seconds, 0.1)
    .quick("--latency-trials", opt.latency_trials, 1);
  const auto default_window = core::network_spec{}.window;
  if (std::find(opt.windows.begin(), opt.windows.end(), default_window) == opt.windows.end())
    opt.windows.push_back(default_window); // the goals are judged at the default

  spdlog::set_level(spdlog::level::warn); // nodes and buses log every connect and stop at info
  ports pt;
  const auto picked = free_ports(2 * opt.windows.size() + 1);
  pt.a.assign(picked.begin(), picked.begin() + static_cast<std::ptrdiff_t>(opt.windows.size()));
  pt.b.assign(picked.begin() + static_cast<std::ptrdiff_t>(opt.windows.size()), picked.end() - 1);
  pt.raw = picked.back();
  shared_mapping shm;
  std::array<int, 2> ready{};
  std::array<int, 2> done{};
  if (pipe(ready.data()) != 0 || pipe(done.data()) != 0) {
    std::perror("pipe");
    return 2;
  }
  std::fflush(stdout);
  // Before any actor system (any thread) exists: the child is a clean single-threaded copy.
  const pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 2;
  }
  if (child == 0) {
    close(ready[0]);
    close(done[1]);
    const int rc = run_node_b(opt, pt, shm.get(), ready[1], done[0]);
    std::fflush(nullptr);
    _exit(rc); // not the parent's atexit handlers or its copy of the shared block's owner
  }
  close(ready[1]);
  close(done[0]);
  const int rc = run_node_a(opt, pt, shm.get(), child, ready[0], done[1]);
  int status = 0;
  waitpid(child, &status, 0);
  const int rc_b = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
  return rc != 0 ? rc : rc_b;
}
