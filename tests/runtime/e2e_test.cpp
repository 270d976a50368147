// The shipped topologies end to end, as a user runs them: libra-runtime over the real EUR/USD
// data, its summary checked against the recorder's file.
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#ifdef LIBRA_RUNTIME_BIN

using namespace std::chrono_literals;
using libra::testing::child_process;
using libra::testing::summary_type_counts;

namespace {

struct recorded {
  std::string type;
  std::uint64_t sequence = 0;
  std::string trace_id;
  std::string reason; // ORDER_REJECTED only
};

// Copies a shipped topology into a temp dir with absolute data paths and the recorder writing there.
std::filesystem::path stage(const std::string& name, const std::filesystem::path& dir) {
  auto text = libra::testing::read_text(std::filesystem::path{LIBRA_SOURCE_DIR} / "config" / name);
  text = std::regex_replace(text, std::regex{"\\.\\./data/"}, std::string{LIBRA_SOURCE_DIR} + "/data/");
  text = std::regex_replace(text, std::regex{"\\.\\./build/[a-z-]+\\.jsonl"}, (dir / "events.jsonl").string());
  auto path = dir / name;
  std::ofstream{path} << text;
  return path;
}

std::vector<recorded> read_events(const std::filesystem::path& p) {
  std::vector<recorded> out;
  std::ifstream in{p};
  std::string line;
  const std::regex type{R"re("type":"([A-Z_]+)")re"};
  const std::regex seq{R"re("sequence":([0-9]+))re"};
  const std::regex trace{R"re("trace_id":"([0-9a-f]{32})")re"};
  const std::regex reason{R"re("reason":"([a-z_]+)")re"};
  for (std::smatch m; std::getline(in, line);) {
    recorded r;
    REQUIRE(std::regex_search(line, m, type));
    r.type = m[1];
    REQUIRE(std::regex_search(line, m, seq));
    r.sequence = std::stoull(m[1]);
    REQUIRE(std::regex_search(line, m, trace));
    r.trace_id = m[1];
    if (std::regex_search(line, m, reason))
      r.reason = m[1];
    out.push_back(std::move(r));
  }
  return out;
}

struct run_result {
  int rc;
  std::string out;
  std::string err;
  std::vector<recorded> events;
};

run_result run(const std::string& topology) {
  const auto dir = std::filesystem::temp_directory_path() / ("libra-e2e-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  child_process p{{LIBRA_RUNTIME_BIN, stage(topology, dir).string(), "--no-progress"}};
  run_result r{p.wait(), p.out(), p.err(), {}};
  r.events = read_events(dir / "events.jsonl");
  std::filesystem::remove_all(dir);
  return r;
}

} // namespace

TEST_CASE("default topology: real data trades, summary matches the recorder, one trace per chain",
          "[process][runtime][e2e]") {
  auto r = run("default.yaml");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.out, Catch::Contains("(end of data)"));
  CHECK_THAT(r.out, Catch::Contains("dropped 0, rejected 0, errors 0"));
  const auto counts = summary_type_counts(r.out);
  REQUIRE(!counts.empty());         // the summary has its `events by type` line
  CHECK(counts.at("TICK") == 9500); // every row of the file
  std::map<std::string, std::uint64_t> recorded_counts;
  for (const auto& e : r.events)
    ++recorded_counts[e.type];
  for (const auto* t :
       {"SIGNAL", "ORDER_NEW", "ORDER_FILLED", "ORDER_REJECTED", "POSITION_OPENED", "RISK_LIMIT_BREACH"}) {
    INFO(t);
    CHECK(recorded_counts[t] == counts.at(t)); // the summary and the file agree
    CHECK(counts.at(t) > 0);                   // it trades, and risk denies some orders
  }
  // Every fill has an order and a signal in its trace.
  std::map<std::string, std::set<std::string>> types_by_trace;
  for (const auto& e : r.events)
    types_by_trace[e.trace_id].insert(e.type);
  std::size_t fills = 0;
  for (const auto& e : r.events) {
    if (e.type != "ORDER_FILLED")
      continue;
    ++fills;
    const auto& types = types_by_trace[e.trace_id];
    CHECK(types.count("ORDER_NEW") == 1);
    CHECK(types.count("SIGNAL") == 1);
  }
  CHECK(fills == counts.at("ORDER_FILLED"));
}

TEST_CASE("risk-breaker topology: the circuit breaker trips and no order follows it", "[process][runtime][e2e][risk]") {
  auto r = run("risk-breaker.yaml");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  std::uint64_t breaker_seq = 0;
  std::size_t breakers = 0;
  std::map<std::string, std::uint64_t> signal_seq;
  for (const auto& e : r.events) {
    if (e.type == "CIRCUIT_BREAKER") {
      ++breakers;
      breaker_seq = e.sequence;
    } else if (e.type == "SIGNAL") {
      signal_seq[e.trace_id] = e.sequence;
    }
  }
  REQUIRE(breakers == 1);
  std::size_t denied_after = 0;
  for (const auto& e : r.events) {
    if (e.type == "ORDER_NEW") {
      INFO("ORDER_NEW in trace " << e.trace_id);
      CHECK(signal_seq.at(e.trace_id) < breaker_seq); // no order from a signal after the breaker
    }
    if (e.type == "ORDER_REJECTED" && e.reason == "circuit_breaker")
      ++denied_after;
  }
  CHECK(denied_after > 0);
}

#endif
