// Two nodes joined by libra::net::node in one test process: two actor systems, each with its own
// middleman on a free loopback port and its own bus. What the link promises: RISK overtakes a
// backlog across the wire, and every event crosses once, in order per publisher and priority.
#include "../support/bus_fixture.hpp"
#include "../support/eventually.hpp"

#include "core/topology.hpp"
#include "net/node.hpp"

#include <libra/bus.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// The helpers live in libra::testing (an anonymous namespace in it), so they need no
// using-directive at namespace scope: in a unity batch one would reach the files after this one.
namespace libra::testing {
namespace {

/// A loopback port nobody listens on now: the kernel picks it for a socket bound to port 0. Another
/// process could take it in the milliseconds before the node listens; that needs it to draw the
/// same port out of the ephemeral range, which is rare enough for a test.
std::uint16_t netlink_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 // NOLINT: the socket API
                  && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

/// Nodes "a" and "b" on loopback, written by hand as a topology file's `nodes:`/`network:` would
/// give them. Each node's event sources are named: an event that came from the peer is then never
/// shipped back (without them the two links would echo every event forever).
core::network_spec netlink_spec(std::uint32_t window) {
  core::network_spec net;
  const auto port_a = netlink_free_port();
  auto port_b = netlink_free_port();
  while (port_b == port_a) // the first socket is closed already: the kernel may hand it out again
    port_b = netlink_free_port();
  net.nodes = {core::node_spec::on_loopback("a", port_a), core::node_spec::on_loopback("b", port_b)};
  net.connect_timeout = 20'000ms;
  // A long timeout: under a sanitizer, with a subscriber spinning on one of the two cores, a
  // heartbeat may be late by far more than CAF's 500 ms default, and the test is not about loss.
  net.heartbeat_interval = 100ms;
  net.heartbeat_timeout = 10'000ms;
  net.window = window;
  for (const char* side : {"a", "b"})
    for (const char* family : {"gateway", "strategy", "execution", "risk"})
      net.actor_nodes.emplace(std::string{family} + "." + side, side);
  return net;
}

/// One node's process: an actor system with the middleman, a bus, and the node (made later, once
/// the node's own subscriptions are known).
struct netlink_side {
  static caf::actor_system_config& init(caf::actor_system_config& cfg, const core::network_spec& net) {
    configure_system(cfg, 2);
    net::node::configure(cfg, net);
    return cfg;
  }
  static bus_config bus_cfg(std::size_t capacity) {
    bus_config c;
    c.capacity = capacity;
    c.name = "net.test";
    return c;
  }
  // The default capacity: 100k ticks may wait at B (MARKET_DATA's share is 80%).
  netlink_side(const core::network_spec& net, std::string node_name, std::size_t capacity = 1'000'000)
    : name{std::move(node_name)}, spec{net}, b{sys, bus_cfg(capacity)} {}
  void make_node(std::uint32_t wants,
                 std::optional<std::array<std::size_t, event_type_count>> baseline = std::nullopt) {
    b.start();
    nd = std::make_unique<net::node>(sys, b, spec, name, wants, net::node_callbacks{}, baseline);
  }
  std::string name;
  core::network_spec spec;
  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg, spec)};
  bus b;
  std::unique_ptr<net::node> nd;
};

/// Declared after both sides (so destroyed before them): both know the run is ending before
/// either side's middleman goes away, so neither logs the other as lost.
struct netlink_closing {
  netlink_side& a;
  netlink_side& b;
  ~netlink_closing() {
    for (auto* s : {&a, &b}) {
      if (s->nd)
        s->nd->closing();
      s->b.stop(std::chrono::milliseconds{0}); // first: subscribers leaving afterwards are no news to it
    }
  }
};

/// Ends a test's subscriber actor; declared before netlink_closing, so it runs after the buses stop.
struct netlink_actor_exit {
  caf::actor actor;
  ~netlink_actor_exit() { caf::anon_send_exit(actor, caf::exit_reason::user_shutdown); }
};

/// Both nodes listen, then connect to each other (each one's wait_connected needs the other's
/// dial, so they wait side by side).
void netlink_connect(netlink_side& a, netlink_side& b) {
  REQUIRE_FALSE(a.nd->listen().has_value());
  REQUIRE_FALSE(b.nd->listen().has_value());
  auto never = [] { return false; };
  auto b_up = std::async(std::launch::async, [&] { return b.nd->wait_connected(never); });
  const bool a_up = a.nd->wait_connected(never);
  REQUIRE(b_up.get());
  REQUIRE(a_up);
}

std::uint32_t netlink_mask(std::initializer_list<event_type> types) {
  std::uint32_t m = 0;
  for (auto t : types)
    m |= type_bit(t);
  return m;
}

// Events carrying a sequence number n, from a source of node `side` ("a" or "b").
source_id netlink_source(const char* family, const std::string& node_name) {
  return source_id{std::string{family} + "." + node_name};
}
event netlink_tick(std::int64_t n, const std::string& node_name) {
  return make_tick(n, "EUR/USD", netlink_source("gateway", node_name));
}
event netlink_signal(std::int64_t n, const std::string& node_name) {
  return event::create(event_type::signal, netlink_source("strategy", node_name),
                       signal{"EUR/USD", side::buy, 0.5, price::from_raw(n)});
}
event netlink_order(std::int64_t n, const std::string& node_name) {
  order o;
  o.client_id = client_order_id{static_cast<std::uint64_t>(n)};
  o.instrument = "EUR/USD";
  o.quantity = quantity::from_double(1);
  o.side = side::buy;
  return event::create(event_type::order_new, netlink_source("execution", node_name), o);
}
event netlink_breaker(std::int64_t n, const std::string& node_name) {
  return event::create(event_type::circuit_breaker, netlink_source("risk", node_name),
                       risk{risk_rule::circuit_breaker,
                            {},
                            0.05,
                            static_cast<double>(n),
                            std::make_shared<const std::string>("test breaker")});
}

/// The sequence number an event of the mix carries.
std::int64_t netlink_seq(const event& e) {
  if (const auto* t = e.get_if<tick>())
    return t->bid_size.raw();
  if (const auto* s = e.get_if<signal>())
    return s->reference.raw();
  if (const auto* o = e.get_if<order>())
    return static_cast<std::int64_t>(value(o->client_id));
  if (const auto* r = e.get_if<risk>())
    return static_cast<std::int64_t>(r->value);
  return -1;
}

/// The mix one side publishes: n ticks, with a SIGNAL every 3rd, an ORDER_NEW every 7th and a
/// CIRCUIT_BREAKER every 50th, each type numbered from 0.
std::vector<event> netlink_mix(std::int64_t n, const std::string& node_name) {
  std::vector<event> out;
  std::int64_t signals = 0;
  std::int64_t orders = 0;
  std::int64_t breakers = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    out.push_back(netlink_tick(i, node_name));
    if (i % 3 == 0)
      out.push_back(netlink_signal(signals++, node_name));
    if (i % 7 == 0)
      out.push_back(netlink_order(orders++, node_name));
    if (i % 50 == 0)
      out.push_back(netlink_breaker(breakers++, node_name));
  }
  return out;
}

/// The slow subscriber on B: 1 us of busy work per tick; notes how many ticks it had handled when
/// the breaker came. It holds in its first tick until `release` opens, so that the whole backlog
/// (and the breaker) is published on A while B is known to be behind.
struct netlink_slow_subscriber {
  explicit netlink_slow_subscriber(caf::actor_system& sys) {
    actor = sys.spawn(
      [this](caf::event_based_actor*, const std::shared_ptr<collector>& /*unused*/) -> caf::behavior {
        return {on_events([this](const event& e) {
          if (e.type() == event_type::circuit_breaker) {
            ticks_at_breaker.store(ticks.load());
            breakers.fetch_add(1);
            breaker_seen.count_down();
            return;
          }
          if (!held_once.exchange(true)) {
            entered.count_down();
            release.wait();
          }
          const auto until = std::chrono::steady_clock::now() + 1us;
          while (std::chrono::steady_clock::now() < until) {
          }
          ticks.fetch_add(1);
        })};
      },
      std::make_shared<collector>()); // an argument: CAF 0.17's no-argument spawn trips UBSan
  }
  netlink_slow_subscriber(const netlink_slow_subscriber&) = delete;
  netlink_slow_subscriber& operator=(const netlink_slow_subscriber&) = delete;
  ~netlink_slow_subscriber() {
    release.open();
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }

  gate release;
  countdown entered{1};
  countdown breaker_seen{1};
  std::atomic<bool> held_once{false};
  std::atomic<std::uint64_t> ticks{0};
  std::atomic<std::uint64_t> breakers{0};
  std::atomic<std::uint64_t> ticks_at_breaker{0};
  caf::actor actor;
};

} // namespace
} // namespace libra::testing

TEST_CASE("nodes: a CIRCUIT_BREAKER published on node A behind 100k ticks queued for a slow subscriber on node B "
          "is handled on B before almost all of them",
          "[net]") {
  using namespace libra;
  using namespace libra::testing;
  constexpr std::uint64_t n_ticks = 100'000;
  const auto net = netlink_spec(8);
  netlink_side a{net, "a"};
  netlink_side b{net, "b"};
  netlink_slow_subscriber slow{b.sys};
  const netlink_closing closing{a, b};
  b.b.subscribe(event_type::tick, slow.actor);
  b.b.subscribe(event_type::circuit_breaker, slow.actor);
  a.make_node(0);
  b.make_node(netlink_mask({event_type::tick, event_type::circuit_breaker}));
  netlink_connect(a, b);

  auto pub = a.b.make_publisher();
  REQUIRE(pub.publish(netlink_tick(0, "a")));
  REQUIRE(slow.entered.wait()); // B's subscriber is inside its first tick: everything else queues
  std::uint64_t refused = 0;
  for (std::uint64_t i = 1; i < n_ticks; ++i)
    refused += pub.publish(netlink_tick(static_cast<std::int64_t>(i), "a")) ? 0 : 1;
  REQUIRE(refused == 0);
  REQUIRE(pub.publish(netlink_breaker(0, "a")));
  slow.release.open();

  REQUIRE(slow.breaker_seen.wait());
  // The breaker leaves A ahead of every tick still staged on A's link (its RISK stage is sent
  // first) and, on B, overtakes every tick pending in B's bus (RISK's ring of its own). What may
  // run before it is B's handling of ticks during its trip: about one batch round trip on loopback
  // (tens of microseconds, a few ms under a sanitizer), i.e. tens to a few thousand 1 us ticks.
  // 90% of 100k (90 ms of tick work at least) leaves room for a stalled CI machine, and still fails
  // if the breaker queued behind the ticks anywhere (FIFO would put it after all 100,000).
  CHECK(slow.ticks_at_breaker.load() < n_ticks * 9 / 10);
  REQUIRE(eventually([&] { return slow.ticks.load() == n_ticks; }));
  REQUIRE_IDLE(b.b);
  CHECK(slow.ticks.load() == n_ticks);
  CHECK(slow.breakers.load() == 1);
  const auto sa = a.nd->stats();
  const auto sb = b.nd->stats();
  REQUIRE(sa.size() == 1);
  REQUIRE(sb.size() == 1);
  CHECK(sa[0].sent == n_ticks + 1);
  CHECK(sb[0].received == n_ticks + 1);
  CHECK(sb[0].sent == 0); // A's actors asked for nothing
}

TEST_CASE("nodes: a CIRCUIT_BREAKER crosses while the link's window is spent and the receiving bus refuses ticks",
          "[net]") {
  using namespace libra;
  using namespace libra::testing;
  const auto net = netlink_spec(1); // one batch in flight
  netlink_side a{net, "a"};
  netlink_side b{net, "b", 1000}; // MARKET_DATA may hold 800 of it
  netlink_slow_subscriber slow{b.sys};
  countdown breaker_seen{1};
  std::atomic<std::uint64_t> ticks_when_seen{UINT64_MAX};
  const netlink_actor_exit watch{b.sys.spawn(
    [&](caf::event_based_actor*, const std::shared_ptr<collector>& /*unused*/) -> caf::behavior {
      return {on_events([&](const event&) {
        ticks_when_seen.store(slow.ticks.load());
        breaker_seen.count_down();
      })};
    },
    std::make_shared<collector>())}; // an argument: CAF 0.17's no-argument spawn trips UBSan
  const netlink_closing closing{a, b};
  b.b.subscribe(event_type::tick, slow.actor);
  b.b.subscribe(event_type::circuit_breaker, watch.actor);
  a.make_node(0);
  b.make_node(netlink_mask({event_type::tick, event_type::circuit_breaker}));
  netlink_connect(a, b);

  auto pub = a.b.make_publisher();
  REQUIRE(pub.publish(netlink_tick(0, "a")));
  REQUIRE(slow.entered.wait()); // B's tick subscriber holds in its first tick until released
  constexpr std::uint64_t n_ticks = 5000;
  for (std::uint64_t i = 1; i < n_ticks; ++i)
    REQUIRE(pub.publish(netlink_tick(static_cast<std::int64_t>(i), "a")));
  // B's bus fills to MARKET_DATA's share; B's link holds the rest of its batch and withholds the
  // ack, so A's one-batch window stays spent for as long as the subscriber holds.
  REQUIRE(eventually([&] { return b.nd->stats().at(0).held > 0; }));
  REQUIRE(pub.publish(netlink_breaker(0, "a")));
  // It goes out in the slot only RISK may take, and B publishes it ahead of the held ticks.
  REQUIRE(breaker_seen.wait());
  CHECK(ticks_when_seen.load() == 0);
  slow.release.open();
  REQUIRE(eventually([&] { return slow.ticks.load() == n_ticks; }));
  REQUIRE_IDLE(b.b);
  // B's link counts after its publish returns, which may be after the handlers ran.
  CHECK(eventually([&] {
    const auto sb = b.nd->stats().at(0);
    return sb.received == n_ticks + 1 && sb.held == 0;
  }));
  CHECK(a.nd->stats().at(0).sent == n_ticks + 1);
}

TEST_CASE("nodes: events of every priority cross both ways exactly once and in order per publisher and priority",
          "[net]") {
  using namespace libra;
  using namespace libra::testing;
  constexpr std::int64_t n_ticks = 3'000;
  const auto types = {event_type::tick, event_type::signal, event_type::order_new, event_type::circuit_breaker};
  const auto net = netlink_spec(4); // a small window: batches wait for credit, and priority reorders them
  netlink_side a{net, "a"};
  netlink_side b{net, "b"};
  auto got_a = std::make_shared<collector>();
  auto got_b = std::make_shared<collector>();
  auto sub_a = a.sys.spawn(collecting_actor, got_a);
  auto sub_b = b.sys.spawn(collecting_actor, got_b);
  const netlink_actor_exit end_a{sub_a};
  const netlink_actor_exit end_b{sub_b};
  const netlink_closing closing{a, b};
  for (auto t : types) {
    a.b.subscribe(t, sub_a);
    b.b.subscribe(t, sub_b);
  }
  a.make_node(netlink_mask(types));
  b.make_node(netlink_mask(types));
  netlink_connect(a, b);

  const auto mix_a = netlink_mix(n_ticks, "a");
  const auto mix_b = netlink_mix(n_ticks, "b");
  // Both ways at once, each side from one publisher handle (FIFO per publisher and priority).
  auto publish_all = [](bus& on, const std::vector<event>& evs) {
    auto pub = on.make_publisher();
    for (const auto& e : evs)
      if (!pub.publish(e))
        return false;
    return true;
  };
  auto from_b = std::async(std::launch::async, [&] { return publish_all(b.b, mix_b); });
  REQUIRE(publish_all(a.b, mix_a));
  REQUIRE(from_b.get());

  // Each collector sees its own side's events and the peer's.
  const auto total = mix_a.size() + mix_b.size();
  REQUIRE(got_a->wait(total));
  REQUIRE(got_b->wait(total));
  // Every batch acknowledged both ways: nothing is still on the wire that could arrive twice.
  REQUIRE(eventually([&] {
    const auto sa = a.nd->stats();
    const auto sb = b.nd->stats();
    return sa[0].acked == mix_a.size() && sb[0].acked == mix_b.size();
  }));
  REQUIRE_IDLE(a.b);
  REQUIRE_IDLE(b.b);

  const auto sa = a.nd->stats();
  const auto sb = b.nd->stats();
  CHECK(sa[0].sent == mix_a.size());
  CHECK(sb[0].received == sa[0].sent);
  CHECK(sb[0].sent == mix_b.size());
  CHECK(sa[0].received == sb[0].sent);
  CHECK(sa[0].bad_batches == 0);
  CHECK(sb[0].bad_batches == 0);

  // On each side, the peer's events: per type (one priority each) exactly 0, 1, 2, ... in order.
  auto check_from = [&](const std::vector<event>& got, const std::vector<event>& sent, const std::string& peer) {
    CHECK(got.size() == total);
    for (auto t : types) {
      std::vector<std::int64_t> want;
      for (const auto& e : sent)
        if (e.type() == t)
          want.push_back(netlink_seq(e));
      std::vector<std::int64_t> seen;
      for (const auto& e : got)
        if (e.type() == t && e.source().view().ends_with("." + peer))
          seen.push_back(netlink_seq(e));
      INFO("type " << to_string(t) << " from node " << peer);
      CHECK(seen == want);
    }
  };
  check_from(got_a->events(), mix_b, "b");
  check_from(got_b->events(), mix_a, "a");
}

TEST_CASE("nodes: a type subscribed after the link is up starts crossing, unsubscribed, it stops", "[net]") {
  using namespace libra;
  using namespace libra::testing;
  const auto net = netlink_spec(8);
  netlink_side a{net, "a"};
  netlink_side b{net, "b"};
  netlink_closing closing{a, b};
  // Both watch their bus; nothing of the runtime's own is subscribed here (baseline 0).
  a.make_node(0, std::array<std::size_t, event_type_count>{});
  b.make_node(0, std::array<std::size_t, event_type_count>{});
  netlink_connect(a, b);
  auto got = std::make_shared<std::atomic<std::uint64_t>>(0);
  const auto sub = b.b.subscribe(event_type::signal, [got](const event&) { got->fetch_add(1); });
  // A publishes signals until B's handler has one: B tells A of its new subscription.
  std::int64_t n = 0;
  REQUIRE(eventually([&] {
    (void)a.b.publish(netlink_signal(n++, "a"));
    return got->load() > 0;
  }));
  CHECK((a.nd->stats().at(0).wants & type_bit(event_type::signal)) != 0);
  // Unsubscribed on B: A's link drops the type and ships no more signals.
  REQUIRE(b.b.unsubscribe(sub));
  REQUIRE(eventually([&] { return (a.nd->stats().at(0).wants & type_bit(event_type::signal)) == 0; }));
  REQUIRE(a.b.wait_idle(std::chrono::seconds{10}));
  const auto sent = a.nd->stats().at(0).sent;
  for (int i = 0; i < 100; ++i)
    REQUIRE(a.b.publish(netlink_signal(n++, "a")));
  REQUIRE(a.b.wait_idle(std::chrono::seconds{10}));
  CHECK(a.nd->stats().at(0).sent == sent);
}

TEST_CASE("nodes: a hello whose sender CAF cannot name (its connection gone) is ignored, the links go on", "[net]") {
  // A hello that reaches a node actor with no sender handle (CAF makes none when the sender's
  // connection ended as the message came) was passed on to the link, whose monitor() of the null
  // handle crashed the process when the link had no peer yet. An anonymous hello from a third
  // actor system, before A is up, is such a message.
  using namespace libra;
  using namespace libra::testing;
  const auto net = netlink_spec(8);
  netlink_side a{net, "a"};
  netlink_side b{net, "b"};
  netlink_closing closing{a, b};
  b.make_node(0, std::array<std::size_t, event_type_count>{});
  REQUIRE_FALSE(b.nd->listen().has_value());
  {
    caf::actor_system_config cfg;
    configure_system(cfg, 1);
    cfg.load<caf::io::middleman>();
    caf::actor_system stranger{cfg};
    auto node_b = stranger.middleman().remote_actor(net.nodes.at(1).host, net.nodes.at(1).port);
    REQUIRE(node_b);
    using hello_atom = caf::atom_constant<caf::atom("lhello")>; // net/node.cpp's
    caf::anon_send(*node_b, hello_atom::value, std::string{"a"}, std::uint32_t{0});
    // A request behind it on the same connection: once it is answered (an error: the node
    // actor has no handler for it), the hello was handled.
    using probe_atom = caf::atom_constant<caf::atom("probe")>;
    caf::scoped_actor self{stranger};
    bool answered = false;
    self->request(*node_b, std::chrono::seconds{10}, probe_atom::value)
      .receive([&] { answered = true; }, [&](const caf::error&) { answered = true; });
    REQUIRE(answered);
  }
  // B still runs, and A's link to it comes up and delivers.
  a.make_node(0, std::array<std::size_t, event_type_count>{});
  REQUIRE_FALSE(a.nd->listen().has_value());
  auto never = [] { return false; };
  auto b_up = std::async(std::launch::async, [&] { return b.nd->wait_connected(never); });
  REQUIRE(a.nd->wait_connected(never));
  REQUIRE(b_up.get());
  auto got = std::make_shared<std::atomic<std::uint64_t>>(0);
  b.b.subscribe(event_type::signal, [got](const event&) { got->fetch_add(1); });
  std::int64_t n = 0;
  REQUIRE(eventually([&] {
    (void)a.b.publish(netlink_signal(n++, "a"));
    return got->load() > 0;
  }));
}
