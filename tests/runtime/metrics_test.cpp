// libra-runtime --metrics: Prometheus' text format over HTTP, read from the counters libra keeps.
// In process: what a scrape says against the bus's own stats. As a user: libra-runtime scraped
// with curl during a run, a taken port, bad addresses.
#include "../support/eventually.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

#include "core/metrics.hpp"
#include "core/monitor.hpp"

#include <libra/bus.hpp>
#include <libra/system_config.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>

using namespace libra;
using namespace std::chrono_literals;

namespace {

/// The samples of a text-format scrape: "name{labels}" -> value. Comment lines are checked for
/// form (# HELP / # TYPE), every other line must be a sample.
std::map<std::string, double> parse_scrape(const std::string& text) {
  static const std::regex sample{R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)$)re"};
  std::map<std::string, double> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      continue;
    if (line.front() == '#') {
      CHECK((line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0));
      continue;
    }
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, sample));
    out[m[1].str()] = m[3].str() == "Nan" ? 0.0 : std::stod(m[3].str());
  }
  return out;
}

double at(const std::map<std::string, double>& scrape, const std::string& series) {
  const auto it = scrape.find(series);
  INFO(series);
  REQUIRE(it != scrape.end());
  return it->second;
}

} // namespace

TEST_CASE("metrics: an address is HOST:PORT, PORT or :PORT (loopback), anything else is refused",
          "[runtime][metrics]") {
  CHECK(core::metrics_address("9464") == "127.0.0.1:9464");
  CHECK(core::metrics_address(":0") == "127.0.0.1:0");
  CHECK(core::metrics_address("0.0.0.0:9100") == "0.0.0.0:9100");
  CHECK(core::metrics_address("[::1]:9464") == "[::1]:9464");
  for (const auto* bad : {"", "host:", "host:65536", "host:-1", "host:94x", "::1:9464", "localhost"}) {
    INFO(bad);
    CHECK_THROWS_AS(core::metrics_address(bad), std::invalid_argument);
  }
}

TEST_CASE("metrics: a scrape says what the bus, the runtime's monitor and the actors' reports counted",
          "[runtime][metrics]") {
  caf::actor_system_config cfg;
  configure_system(cfg, 2);
  caf::actor_system sys{cfg};
  bus b{sys};
  auto mon = std::make_shared<core::monitor_state>();
  auto monitor = sys.spawn(core::monitor_actor, mon);
  for (auto t : all_event_types)
    b.subscribe(t, monitor);
  b.start();
  tick t{};
  t.instrument = "EUR/USD";
  t.bid = price::from_double(1.1);
  t.ask = price::from_double(1.2);
  for (int i = 0; i < 300; ++i)
    REQUIRE(b.publish(event::create(event_type::tick, "gw", t)));
  // What actors report (libra/report.hpp): one figure name reported by two actors is one family.
  auto positions = std::make_shared<actor_report>();
  positions->gauge("position_quantity", 1000, {{"instrument", "EUR/USD"}});
  positions->gauge("pnl_realized", -12.5, {{"instrument", "EUR/USD"}});
  positions->gauge("pnl_unrealized", 3.25, {{"instrument", "EUR/USD"}});
  auto risk_report = std::make_shared<actor_report>();
  risk_report->counter("order_rejections_total", 1, {{"reason", "max_position"}});
  auto venue = std::make_shared<actor_report>();
  venue->counter("order_rejections_total", 2, {{"reason", "no_market"}});
  mon->reports = {{"positions", positions}, {"risk", risk_report}, {"venue", venue}};
  order o{};
  o.instrument = "EUR/USD";
  o.reason = order_reason::max_position;
  REQUIRE(b.publish(event::create(event_type::order_rejected, "risk", o)));
  REQUIRE(b.publish(event::create(event_type::circuit_breaker, "risk", risk{})));
  REQUIRE(libra::testing::eventually(
    [&] { return b.stats().dispatched == 302 && core::count(*mon, event_type::circuit_breaker) == 1; }));

  // Every handler call done (the ring positions move once a handler returns).
  REQUIRE(libra::testing::eventually([&] { return b.subscribers().at(0).handled == 302; }));
  const auto s = b.stats();
  const auto scrape = parse_scrape(core::metrics_text({.b = &b, .mon = mon.get(), .names = {{"monitor", monitor}}}));
  CHECK(at(scrape, "libra_events_published_total") == 302);
  CHECK(at(scrape, "libra_events_dispatched_total") == 302);
  CHECK(at(scrape, R"(libra_events_rejected_total{cause="full"})") == 0);
  CHECK(at(scrape, R"(libra_events_pending{priority="market_data"})") == 0);
  CHECK(at(scrape, R"(libra_events_by_type_total{type="TICK",priority="market_data"})") == 300);
  CHECK(at(scrape, R"(libra_events_by_type_total{type="CIRCUIT_BREAKER",priority="risk"})") == 1);
  CHECK(at(scrape, R"(libra_orders_total{outcome="rejected"})") == 1);
  CHECK(at(scrape, R"(libra_order_rejections_total{actor="risk",reason="max_position"})") == 1);
  CHECK(at(scrape, R"(libra_order_rejections_total{actor="venue",reason="no_market"})") == 2);
  CHECK(at(scrape, R"(libra_position_quantity{actor="positions",instrument="EUR/USD"})") == 1000);
  CHECK(at(scrape, R"(libra_pnl_realized{actor="positions",instrument="EUR/USD"})") == -12.5);
  CHECK(at(scrape, R"(libra_pnl_unrealized{actor="positions",instrument="EUR/USD"})") == 3.25);
  CHECK(at(scrape, "libra_subscriptions") == static_cast<double>(s.handlers));
  // Per subscriber, by the name given: credit in use and lag (none at a quiet point), the limits.
  CHECK(at(scrape, R"(libra_subscriber_events_handled_total{subscriber="monitor"})") == 302);
  for (const auto* prio : {"risk", "orders", "signals", "market_data"}) {
    const auto labels = std::string{"{subscriber=\"monitor\",priority=\""} + prio + "\"}";
    CHECK(at(scrape, "libra_subscriber_credit_in_use" + labels) == 0);
    CHECK(at(scrape, "libra_subscriber_lag_events" + labels) == 0);
    CHECK(at(scrape, "libra_subscriber_credit_limit" + labels)
          == (std::string{prio} == "risk" ? 64 : static_cast<double>(b.config().credit_window)));
  }
  // The latency histogram: its count is the bus's, its buckets cumulative up to +Inf == count.
  const auto risk_count = at(scrape, R"(libra_publish_to_handler_latency_seconds_count{priority="risk"})");
  CHECK(risk_count == static_cast<double>(s.latency_of(priority::risk).count));
  CHECK(risk_count == 1); // every RISK event is timed
  CHECK(at(scrape, R"(libra_publish_to_handler_latency_seconds_bucket{priority="risk",le="+Inf"})") == risk_count);
  double last = 0;
  for (const auto bound : latency_bounds_ns) {
    std::ostringstream le;
    le << static_cast<double>(bound) / 1e9;
    const auto v =
      at(scrape, R"(libra_publish_to_handler_latency_seconds_bucket{priority="market_data",le=")" + le.str() + R"("})");
    CHECK(v >= last);
    last = v;
  }
  CHECK(last <= at(scrape, R"(libra_publish_to_handler_latency_seconds_count{priority="market_data"})"));
  // Every metric a scrape has, and every one the shipped Grafana dashboard asks for, is
  // documented in docs/operations.md.
  const auto doc = libra::testing::read_text(std::filesystem::path{LIBRA_SOURCE_DIR} / "docs" / "operations.md");
  for (const auto& [series, value] : scrape) {
    const auto name = std::regex_replace(series, std::regex{"(_bucket|_sum|_count)?(\\{.*)?$"}, "");
    if (name.rfind("libra_", 0) == 0) {
      INFO(name);
      CHECK(doc.find("`" + name + "`") != std::string::npos);
    }
  }
  const auto dashboard =
    libra::testing::read_text(std::filesystem::path{LIBRA_SOURCE_DIR} / "docs" / "grafana-dashboard.json");
  const std::regex metric{"libra_[a-z_]+"};
  std::size_t asked = 0;
  for (auto it = std::sregex_iterator{dashboard.begin(), dashboard.end(), metric}; it != std::sregex_iterator{};
       ++it, ++asked) {
    const auto name = std::regex_replace(it->str(), std::regex{"_bucket$"}, "");
    INFO(name);
    CHECK(doc.find("`" + name + "`") != std::string::npos);
  }
  CHECK(asked > 10);
  b.stop(1s);
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
}

#ifdef LIBRA_RUNTIME_BIN

namespace {

using libra::testing::child_process;

constexpr const char* curl_bin = "/usr/bin/curl";

/// The port libra-runtime logged ("metrics on http://127.0.0.1:PORT/metrics"), once it did.
int metrics_port(child_process& p) {
  REQUIRE(p.wait_for_output("/metrics", 60s));
  std::smatch m;
  const auto err = p.err();
  REQUIRE(std::regex_search(err, m, std::regex{R"(metrics on http://127\.0\.0\.1:([0-9]+)/metrics)"}));
  return std::stoi(m[1].str());
}

std::map<std::string, double> scrape_with_curl(int port) {
  child_process curl{{curl_bin, "-sS", "--max-time", "10", "http://127.0.0.1:" + std::to_string(port) + "/metrics"}};
  const int rc = curl.wait();
  INFO(curl.err());
  REQUIRE(rc == 0);
  return parse_scrape(curl.out());
}

const std::string streaming_topology = "runtime: {stats_interval_s: 0.2}\n"
                                       "actors:\n"
                                       "  - {name: gw, type: gateway.synthetic, params: {instrument: EUR/USD, rate: "
                                       "20000, count: 0, seed: 5}}\n"
                                       "  - {name: strategy, type: strategy.sma_cross, params: {instrument: EUR/USD, "
                                       "fast: 5, slow: 20}}\n"
                                       "  - {name: risk, type: risk.engine, params: {execution: venue, "
                                       "order_quantity: 1000, max_position: 3000}}\n"
                                       "  - {name: venue, type: execution.paper, params: {}}\n"
                                       "  - {name: positions, type: position.manager, params: {}}\n";

} // namespace

TEST_CASE("metrics: libra-runtime --metrics serves counters that only grow, and the summary ends above them",
          "[runtime][metrics][process]") {
  libra::testing::temp_dir dir;
  const auto topo = dir.write("stream.yaml", streaming_topology);
  child_process run{{LIBRA_RUNTIME_BIN, topo.string(), "--metrics", "0", "--no-progress"}};
  const int port = metrics_port(run);
  const std::vector<std::string> counters{"libra_events_published_total", "libra_events_dispatched_total",
                                          R"(libra_events_by_type_total{type="TICK",priority="market_data"})",
                                          R"(libra_orders_total{outcome="new"})"};
  std::map<std::string, double> last;
  for (int i = 0; i < 6; ++i) {
    // Paced by the run's own progress: each scrape after another stats interval was logged.
    const auto scrape = scrape_with_curl(port);
    for (const auto& c : counters) {
      INFO(c << " at scrape " << i);
      CHECK(at(scrape, c) >= (last.contains(c) ? last[c] : 0.0));
      last[c] = at(scrape, c);
    }
    CHECK(at(scrape, "libra_events_dispatched_total") <= at(scrape, "libra_events_published_total"));
    run.wait_for_output("\x01never", 200ms); // reads the child's pipes meanwhile
  }
  CHECK(last["libra_events_published_total"] > 0);
  CHECK(last[R"(libra_orders_total{outcome="new"})"] > 0);
  // The trading actors' own figures, labelled by actor (libra/report.hpp).
  const auto actors = scrape_with_curl(port);
  CHECK(at(actors, R"(libra_orders_approved_total{actor="risk"})") > 0);
  CHECK(at(actors, R"(libra_orders_filled_total{actor="venue"})") > 0);
  CHECK(actors.contains(R"(libra_pnl_realized{actor="positions",instrument="EUR/USD"})"));
  run.signal(SIGINT);
  const int rc = run.wait();
  INFO(run.err());
  REQUIRE(rc == 0);
  const auto out = run.out();
  CHECK(static_cast<double>(libra::testing::summary_field(out, "published")) >= last["libra_events_published_total"]);
  CHECK(static_cast<double>(libra::testing::summary_field(out, "dispatched")) >= last["libra_events_dispatched_total"]);
  CHECK(static_cast<double>(libra::testing::summary_field(out, "orders             new"))
        >= last[R"(libra_orders_total{outcome="new"})"]);
  CHECK(static_cast<double>(libra::testing::summary_field(out, "risk               signals"))
        >= at(actors, R"(libra_signals_total{actor="risk"})"));
  CHECK_THAT(out, Catch::Contains("\nPnL                realized "));
}

TEST_CASE("metrics: a taken port is a warning unless metrics.required", "[runtime][metrics][process]") {
  libra::testing::temp_dir dir;
  const auto topo = dir.write("stream.yaml", streaming_topology);
  child_process first{{LIBRA_RUNTIME_BIN, topo.string(), "--metrics", "0", "--no-progress"}};
  const auto taken = std::to_string(metrics_port(first));
  SECTION("taken, not required: the run goes on without metrics") {
    child_process second{{LIBRA_RUNTIME_BIN, topo.string(), "--metrics", taken, "--duration", "0.5", "--no-progress"}};
    const int rc = second.wait();
    INFO(second.err());
    CHECK(rc == 0);
    CHECK_THAT(second.err(), Catch::Contains("cannot serve metrics on 127.0.0.1:" + taken));
    CHECK_THAT(second.err(), Catch::Contains("running without metrics"));
    CHECK_THAT(second.out(), Catch::Contains("== libra-runtime summary"));
  }
  SECTION("taken, required: exit 2, nothing was run") {
    const auto req =
      dir.write("req.yaml", "metrics: {listen: \"127.0.0.1:" + taken + "\", required: true}\n" + streaming_topology);
    child_process second{{LIBRA_RUNTIME_BIN, req.string(), "--no-progress"}};
    const int rc = second.wait();
    INFO(second.err());
    CHECK(rc == 2);
    CHECK_THAT(second.err(), Catch::Contains("cannot serve metrics on 127.0.0.1:" + taken));
    CHECK_THAT(second.err(), Catch::Contains("nothing was run"));
    CHECK(second.out().find("summary") == std::string::npos);
  }
  first.signal(SIGINT);
  CHECK(first.wait() == 0);
}

TEST_CASE("metrics: bad addresses are refused before anything runs", "[runtime][metrics][process]") {
  libra::testing::temp_dir dir;
  const auto topo = dir.write("stream.yaml", streaming_topology);
  SECTION("a bad listen address in the topology: located, exit 2") {
    const auto bad = dir.write("bad.yaml", "metrics: {listen: \"127.0.0.1:99999\"}\n" + streaming_topology);
    child_process second{{LIBRA_RUNTIME_BIN, bad.string(), "--no-progress"}};
    CHECK(second.wait() == 2);
    CHECK_THAT(second.err(), Catch::Contains(bad.string() + ":1:"));
    CHECK_THAT(second.err(), Catch::Contains("metrics.listen"));
    CHECK_THAT(second.err(), Catch::Contains("0 to 65535"));
    // One address for the processes of a distributed topology: refused (each node gets its own).
    const auto nodes = dir.write("nodes.yaml", "metrics: {listen: \"9464\"}\n"
                                               "nodes:\n  a: {port: 47001}\n  b: {port: 47002}\n"
                                               "actors:\n  - {name: gw, type: gateway.synthetic, node: a, params: "
                                               "{instrument: X, count: 1}}\n  - {name: rec, type: recorder, node: b, "
                                               "params: {file: r.jsonl}}\n");
    child_process third{{LIBRA_RUNTIME_BIN, nodes.string(), "--check"}};
    CHECK(third.wait() == 2);
    CHECK_THAT(third.err(), Catch::Contains(nodes.string() + ":1:"));
    CHECK_THAT(third.err(), Catch::Contains("--node NAME --metrics ADDRESS"));
  }
  SECTION("a bad --metrics: a usage error") {
    child_process second{{LIBRA_RUNTIME_BIN, topo.string(), "--metrics", "localhost"}};
    CHECK(second.wait() == 64);
    CHECK_THAT(second.err(), Catch::Contains("--metrics"));
  }
}

#endif
