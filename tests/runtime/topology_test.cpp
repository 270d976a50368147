// Topology loading: every validation error names file:line:column and the key path; nothing is
// spawned by loading (factories only validate).
#include "core/topology.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace libra;

namespace {

// A registry with test-only types: the runtime core knows no concrete actor.
struct fake_registry {
  actor_registry reg;
  std::shared_ptr<std::atomic<int>> spawned = std::make_shared<std::atomic<int>>(0);
  fake_registry() {
    auto counter = spawned;
    reg.add("test.source", {[counter](const params& p) -> spawn_fn {
                              (void)p.get<std::int64_t>("rows", 10);
                              if (p.has("file"))
                                (void)p.require_path("file");
                              return [counter](const actor_context&) {
                                counter->fetch_add(1);
                                return caf::actor{};
                              };
                            },
                            "test producer",
                            true,
                            {"source"}});
    reg.add("test.sink", {[counter](const params& p) -> spawn_fn {
                            (void)p.require_actor("upstream", "source");
                            return [counter](const actor_context&) {
                              counter->fetch_add(1);
                              return caf::actor{};
                            };
                          },
                          "test consumer", false});
    reg.add("test.idle", {[counter](const params&) -> spawn_fn {
                            return [counter](const actor_context&) {
                              counter->fetch_add(1);
                              return caf::actor{};
                            };
                          },
                          "neither produces nor names another actor", false});
  }
};

class temp_file {
public:
  explicit temp_file(const std::string& text, const std::string& name = "topology.yaml") {
    dir_ = std::filesystem::temp_directory_path()
           / ("libra-topo-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / name;
    std::ofstream{path_} << text;
  }
  ~temp_file() { std::filesystem::remove_all(dir_); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& dir() const { return dir_; }

private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

config_error load_error(const std::string& yaml) {
  fake_registry r;
  temp_file f{yaml};
  try {
    (void)core::load_topology(f.path(), r.reg);
  } catch (const config_error& e) {
    CHECK(r.spawned->load() == 0); // nothing started
    CHECK(e.file() == f.path().string());
    return e;
  }
  FAIL("no config_error for:\n" << yaml);
  throw std::logic_error("unreachable");
}

const char* const valid = R"(bus:
  capacity: 5000
  credit_window: 8
  batch_size: 4
runtime:
  workers: 3
  idle: frugal
  stats_interval_s: 0.5
logging:
  level: warn
actors:
  - name: src
    type: test.source
    params:
      rows: 7
  - name: sink
    type: test.sink
    params:
      upstream: src
)";

} // namespace

TEST_CASE("a valid topology loads with its settings", "[runtime][topology]") {
  fake_registry r;
  temp_file f{valid};
  auto topo = core::load_topology(f.path(), r.reg);
  CHECK(topo.bus.capacity == 5000);
  CHECK(topo.bus.credit_window == 8);
  CHECK(topo.bus.batch_size == 4);
  CHECK(topo.workers == 3);
  CHECK(topo.idle == idle_policy::frugal);
  CHECK(topo.stats_interval == std::chrono::milliseconds{500});
  CHECK(topo.log_level == "warn");
  REQUIRE(topo.actors.size() == 2);
  CHECK(topo.actors[0].name == "src");
  CHECK(topo.actors[0].producer);
  CHECK_FALSE(topo.actors[1].producer);
  CHECK(r.spawned->load() == 0); // loading validates; it spawns nothing
}

TEST_CASE("runtime.idle defaults to responsive and takes only its two values", "[runtime][topology]") {
  fake_registry r;
  temp_file f{"actors:\n  - {name: a, type: test.source}\n"};
  CHECK(core::load_topology(f.path(), r.reg).idle == idle_policy::responsive);
  auto e = load_error("runtime:\n  idle: spin\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(e.key_path() == "runtime.idle");
  CHECK(e.line() == 2);
}

TEST_CASE("malformed YAML is reported with its line", "[runtime][topology][errors]") {
  auto e = load_error("bus:\n  capacity: [1, 2\nactors: []\n");
  CHECK(e.key_path() == "(syntax)");
  CHECK(e.line() == 3);
}

TEST_CASE("unknown keys are reported where they are", "[runtime][topology][errors]") {
  auto e = load_error(std::string{valid} + "extra: 1\n");
  CHECK(e.key_path() == "extra");
  CHECK(e.message() == "unknown key");
  CHECK(e.line() == 20);
  CHECK(e.column() == 1);

  auto in_bus = load_error("bus:\n  capcity: 10\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(in_bus.key_path() == "bus.capcity");
  CHECK(in_bus.line() == 2);
  CHECK(in_bus.column() == 3);

  auto in_params =
    load_error("actors:\n  - name: a\n    type: test.source\n    params:\n      rows: 1\n      rowz: 2\n");
  CHECK(in_params.key_path() == "actors[0].params.rowz");
  CHECK(in_params.line() == 6);

  auto in_actor = load_error("actors:\n  - name: a\n    type: test.source\n    colour: red\n");
  CHECK(in_actor.key_path() == "actors[0].colour");
  CHECK(in_actor.line() == 4);
}

TEST_CASE("wrong types are reported with the expected type", "[runtime][topology][errors]") {
  auto e = load_error("bus:\n  capacity: lots\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(e.key_path() == "bus.capacity");
  CHECK(e.message() == "expected an integer");
  CHECK(e.line() == 2);
  CHECK(e.column() == 13);

  auto list = load_error("actors:\n  name: a\n");
  CHECK(list.key_path() == "actors");
  CHECK_THAT(list.message(), Catch::Contains("list of actors"));
}

TEST_CASE("missing fields are reported", "[runtime][topology][errors]") {
  auto e = load_error("actors:\n  - name: a\n");
  CHECK(e.key_path() == "actors[0].type");
  CHECK(e.message() == "missing required key");
  CHECK(e.line() == 2);

  auto no_actors = load_error("bus:\n  capacity: 1000\n");
  CHECK_THAT(no_actors.message(), Catch::Contains("actors"));
}

TEST_CASE("unknown actor types list the known ones", "[runtime][topology][errors]") {
  auto e = load_error("actors:\n  - name: a\n    type: gateway.nope\n");
  CHECK(e.key_path() == "actors[0].type");
  CHECK_THAT(e.message(), Catch::Contains("unknown actor type 'gateway.nope'") && Catch::Contains("test.source"));
  CHECK(e.line() == 3);
  CHECK(e.column() == 11);
}

TEST_CASE("duplicate actor names are refused at the second one", "[runtime][topology][errors]") {
  auto e = load_error("actors:\n  - {name: a, type: test.source}\n  - {name: a, type: test.source}\n");
  CHECK(e.key_path() == "actors[1].name");
  CHECK_THAT(e.message(), Catch::Contains("duplicate actor name 'a'"));
  CHECK(e.line() == 3);
}

TEST_CASE("absurd numbers are refused", "[runtime][topology][errors]") {
  auto cap = load_error("bus:\n  capacity: 0\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(cap.key_path() == "bus.capacity");
  CHECK_THAT(cap.message(), Catch::Contains("out of range"));
  auto tiny = load_error("bus:\n  capacity: 5\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(tiny.key_path() == "bus.capacity");
  CHECK(tiny.line() == 2);
  CHECK_THAT(tiny.message(), Catch::Contains("too small for admission_shares") && Catch::Contains(">= 11"));
  auto credit = load_error("bus:\n  credit_window: 0\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(credit.key_path() == "bus.credit_window");
  auto threads = load_error("runtime:\n  workers: 1000000\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(threads.key_path() == "runtime.workers");
  auto batch = load_error("bus:\n  credit_window: 4\n  batch_size: 8\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(batch.key_path() == "bus.batch_size");
  CHECK(batch.line() == 3);
}

TEST_CASE("missing data files are reported", "[runtime][topology][errors]") {
  auto e = load_error("actors:\n  - name: a\n    type: test.source\n    params:\n      file: no/such/file.csv\n");
  CHECK(e.key_path() == "actors[0].params.file");
  CHECK_THAT(e.message(), Catch::Contains("does not exist"));
  CHECK(e.line() == 5);
}

TEST_CASE("references to unknown actors are reported", "[runtime][topology][errors]") {
  auto e = load_error("actors:\n  - {name: a, type: test.source}\n  - name: b\n    type: test.sink\n    params:\n"
                      "      upstream: ghost\n");
  CHECK(e.key_path() == "actors[1].params.upstream");
  CHECK_THAT(e.message(), Catch::Contains("no actor named 'ghost'"));
  CHECK(e.line() == 6);
}

TEST_CASE("a plugin that does not load is reported", "[runtime][topology][errors][plugin]") {
  temp_file bogus{"not a shared library", "bogus.so"};
  auto e = load_error("plugins: [" + bogus.path().string() + "]\nactors:\n  - {name: a, type: test.source}\n");
  CHECK(e.key_path() == "plugins[0].path");
  CHECK_THAT(e.message(), Catch::Contains("failed to load"));
  CHECK(e.line() == 1);
}

TEST_CASE("a plugin that loads but fails is reported", "[runtime][topology][errors][plugin]") {
  auto with = [](const char* path) {
    return load_error(std::string{"plugins: ["} + path + "]\nactors:\n  - {name: a, type: test.source}\n");
  };
  auto empty = with(LIBRA_TEST_PLUGIN_EMPTY_PATH);
  CHECK(empty.key_path() == "plugins[0].path");
  CHECK_THAT(empty.message(), Catch::Contains("registered no actor type"));
  auto throws = with(LIBRA_TEST_PLUGIN_THROWS_PATH);
  CHECK_THAT(throws.message(), Catch::Contains("failed to register: test plugin: registration refused"));
  auto no_entry = with(LIBRA_TEST_PLUGIN_NO_ENTRY_PATH);
  CHECK_THAT(no_entry.message(), Catch::Contains("has no libra_register_actors"));
  CHECK(no_entry.line() == 1);
}

TEST_CASE("an empty topology file is reported at its start", "[runtime][topology][errors]") {
  auto e = load_error("");
  CHECK(e.key_path() == "(root)");
  CHECK(e.line() == 1);
  CHECK(e.column() == 1);
}

TEST_CASE("a topology that could never end on its own is refused", "[runtime][topology][errors]") {
  auto e = load_error("actors:\n  - {name: b, type: test.idle}\n");
  CHECK_THAT(e.message(), Catch::Contains("no producer"));
}

TEST_CASE("a positive duration or stats interval lasts at least a millisecond", "[runtime][topology]") {
  fake_registry r;
  temp_file f{
    "runtime:\n  duration_s: 0.0001\n  stats_interval_s: 0.0105\nactors:\n  - {name: a, type: test.source}\n"};
  const auto topo = core::load_topology(f.path(), r.reg);
  CHECK(topo.duration == std::chrono::milliseconds{1}); // not 0, which means "no duration"
  CHECK(topo.stats_interval == std::chrono::milliseconds{11});
}
