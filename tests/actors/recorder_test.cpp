// recorder through the registry on a libra::testing::fixture (and, with gateway.replay, on a real
// actor system and bus): events of different kinds are published, the recorder is stopped, and its
// file is read back line by line (each line parsed as a JSON object with yaml-cpp, which reads
// JSON's flow syntax).
#include "io_fixture.hpp"

#include <libra/json.hpp>
#include <libra/output_file.hpp>
#include <libra/testing.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>

using namespace libra;
using namespace libra::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

YAML::Node parse_json(const std::string& line) {
  INFO(line);
  REQUIRE(line.front() == '{');
  REQUIRE(line.back() == '}');
  auto n = YAML::Load(line);
  REQUIRE(n.IsMap());
  return n;
}

std::string field(const YAML::Node& n, const char* key) { return n[key].as<std::string>(); }

/// The I/O actor types, registered as libra-runtime registers them.
const actor_registry& io_registry() {
  static const actor_registry registry = [] {
    actor_registry r;
    actors::register_io_actors(r);
    return r;
  }();
  return registry;
}

} // namespace

TEST_CASE("recorder: one JSON object per event, fields by payload kind", "[actors][recorder]") {
  temp_dir dir;
  fixture fx;
  const auto file = dir.path() / "out" / "events.jsonl";
  std::filesystem::create_directories(file.parent_path());
  std::ofstream{file} << "old content that must go\n";
  fx.add(io_registry(), "recorder", "recorder",
         yaml_params("file: out/events.jsonl\ntypes: [TICK, ORDER_NEW, ORDER_FILLED, RISK_LIMIT_BREACH, "
                     "SIGNAL, GATEWAY_CONNECTED]\n",
                     dir.path()));
  fx.start();

  const timestamp t0 = std::chrono::sys_days{2020y / 1 / 1} + 22h + 65ms;
  const auto tick_ev = event::create(
    event_type::tick, "gw.eurusd",
    tick{"EUR/USD", *price::parse("1.1212"), *price::parse("1.12172"), *quantity::parse("1000000"), {}, {}, {}},
    trace_context::new_root(), t0);
  order o;
  o.id = order_id{7};
  o.client_id = client_order_id{3};
  o.instrument = "EUR/USD";
  o.quantity = *quantity::parse("100000");
  o.price = *price::parse("1.12172");
  o.side = side::buy;
  o.type = order_type::limit;
  o.status = order_status::accepted;
  const auto order_ev = tick_ev.child_event(event_type::order_new, "risk", o);
  const auto fill_ev = order_ev.child_event(event_type::order_filled, "venue",
                                            fill{order_id{7}, client_order_id{3}, "EUR/USD", *price::parse("1.12172"),
                                                 *quantity::parse("100000"), *money::parse("2.24"), side::buy});
  const auto risk_ev =
    event::create(event_type::risk_limit_breach, "risk",
                  risk{risk_rule::max_position, "EUR/USD", 100000.0, 250000.5,
                       std::make_shared<const std::string>("limit \"max_position\"\nhit\\\ttab\x01")});
  const auto signal_ev = event::create(event_type::signal, "strategy.sma", signal{"EUR/USD", side::sell, 0.75, {}});
  const auto system_ev = event::create(event_type::gateway_connected, "gw.eurusd", libra::system{"gw.eurusd"});
  const auto not_recorded = event::create(event_type::position_updated, "positions", position{});
  for (const auto& e : {tick_ev, order_ev, fill_ev, risk_ev, signal_ev, system_ev, not_recorded})
    fx.publish(e);
  fx.run_until_idle();
  fx.halt("recorder");
  fx.stop(); // the actor ends
  CHECK(fx.failures("recorder").empty());

  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 6);
  std::map<std::string, YAML::Node> by_type;
  for (const auto& line : lines) {
    auto n = parse_json(line);
    by_type[field(n, "type")] = n;
  }
  REQUIRE(by_type.size() == 6);
  CHECK(by_type.count("POSITION_UPDATED") == 0);

  const auto& t = by_type.at("TICK");
  CHECK(field(t, "priority") == "MARKET_DATA");
  CHECK(t["time_ns"].as<std::int64_t>() == t0.time_since_epoch().count());
  CHECK(field(t, "time") == "2020-01-01T22:00:00.065Z");
  CHECK(field(t, "source") == "gw.eurusd");
  CHECK(t["sequence"].as<std::uint64_t>() > 0);
  CHECK(field(t, "trace_id") == tick_ev.trace_id().to_hex());
  CHECK(field(t, "span_id") == tick_ev.span_id().to_hex());
  CHECK(field(t, "traceparent") == tick_ev.trace().traceparent());
  CHECK(field(t["payload"], "instrument") == "EUR/USD");
  CHECK(field(t["payload"], "bid") == "1.1212");
  CHECK(field(t["payload"], "ask") == "1.12172");
  CHECK(field(t["payload"], "bid_size") == "1000000");
  CHECK(field(t["payload"], "ask_size") == "0");
  // Prices are strings in the file, not numbers (exact decimals).
  for (const auto& line : lines)
    if (line.starts_with(R"({"type":"TICK")"))
      CHECK_THAT(line, Catch::Contains(R"("bid":"1.1212","ask":"1.12172")"));

  const auto& on = by_type.at("ORDER_NEW");
  CHECK(field(on, "priority") == "ORDERS");
  CHECK(field(on, "trace_id") == tick_ev.trace_id().to_hex()); // a child: same trace
  CHECK(on["payload"]["id"].as<int>() == 7);
  CHECK(on["payload"]["client_id"].as<int>() == 3);
  CHECK(field(on["payload"], "side") == std::string{to_string(side::buy)});
  CHECK(field(on["payload"], "order_type") == std::string{to_string(order_type::limit)});
  CHECK(field(on["payload"], "status") == std::string{to_string(order_status::accepted)});
  CHECK(field(on["payload"], "reason") == std::string{to_string(order_reason::none)});
  CHECK(field(on["payload"], "quantity") == "100000");
  CHECK(field(on["payload"], "price") == "1.12172");

  const auto& f = by_type.at("ORDER_FILLED");
  CHECK(field(f["payload"], "fee") == "2.24");
  CHECK(field(f["payload"], "price") == "1.12172");
  CHECK(field(f, "trace_id") == tick_ev.trace_id().to_hex());

  const auto& r = by_type.at("RISK_LIMIT_BREACH");
  CHECK(field(r, "priority") == "RISK");
  CHECK(field(r["payload"], "rule") == std::string{to_string(risk_rule::max_position)});
  CHECK(r["payload"]["limit"].as<double>() == 100000.0);
  CHECK(r["payload"]["value"].as<double>() == 250000.5);
  CHECK(field(r["payload"], "message") == "limit \"max_position\"\nhit\\\ttab\x01"); // escaped and back

  const auto& s = by_type.at("SIGNAL");
  CHECK(field(s["payload"], "side") == std::string{to_string(side::sell)});
  CHECK(s["payload"]["strength"].as<double>() == 0.75);

  CHECK(field(by_type.at("GATEWAY_CONNECTED")["payload"], "component") == "gw.eurusd");
  CHECK_THAT(fx.log("recorder"), Catch::Contains("recorder: 6 events written to"));
}

TEST_CASE("recorder: all types when types is absent, directories are created, the file is complete once the bus "
          "is idle",
          "[actors][recorder]") {
  temp_dir dir;
  fixture fx;
  fx.add(io_registry(), "recorder", "recorder", yaml_params("file: sub/dir/all.jsonl\n", dir.path()));
  fx.start();
  for (std::int64_t i = 0; i < 500; ++i)
    fx.publish(make_tick(i));
  fx.publish(make_signal(1));
  fx.publish(make_order(event_type::order_rejected, 9));
  fx.run_until_idle();
  // Flushed per delivered batch: readable while the recorder still runs.
  const auto lines = read_lines(dir.path() / "sub" / "dir" / "all.jsonl");
  REQUIRE(lines.size() == 502);
  std::set<std::uint64_t> sequences;
  for (const auto& line : lines)
    sequences.insert(parse_json(line)["sequence"].as<std::uint64_t>());
  CHECK(sequences.size() == 502);
}

TEST_CASE("recorder: JSON strings are escaped", "[actors][recorder]") {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\re\tf\x1f g/é");
  CHECK(out == R"("a\"b\\c\nd\re\tf\u001f g/é")");
  const auto risk_ev = event::create(event_type::drawdown_warning, "risk",
                                     risk{risk_rule::drawdown,
                                          {},
                                          std::numeric_limits<double>::infinity(),
                                          std::numeric_limits<double>::quiet_NaN(),
                                          nullptr});
  const auto line = libra::event_json(risk_ev);
  CHECK_THAT(line, Catch::Contains(R"("limit":null,"value":null,"message":"")"));
}

TEST_CASE("json_writer: nesting, commas, keys, and every kind of value", "[actors][recorder][json]") {
  std::string out;
  json_writer w{out};
  w.begin_object()
    .field("s", "q\"")
    .field("i", -3)
    .field("u", std::uint64_t{18446744073709551615U})
    .field("d", 0.1)
    .field("inf", std::numeric_limits<double>::infinity())
    .field("b", false)
    .field("px", *price::parse("1.10015"))
    .key("a")
    .begin_array()
    .value(1)
    .begin_object()
    .end()
    .begin_array()
    .end()
    .null()
    .raw("{\"x\":1}")
    .end()
    .key("o")
    .begin_object()
    .field("k", true)
    .end()
    .end();
  CHECK(out
        == R"({"s":"q\"","i":-3,"u":18446744073709551615,"d":0.1,"inf":null,"b":false,"px":"1.10015",)"
           R"("a":[1,{},[],null,{"x":1}],"o":{"k":true}})");
  // Appends to what the string held; a second top-level value needs no comma (JSON lines).
  json_writer{out}.begin_array().end();
  CHECK(out.ends_with("}[]"));
}

TEST_CASE("recorder: an event's JSON form has every field, the parent span only when known", "[actors][recorder]") {
  auto book = std::make_shared<order_book>();
  book->instrument = "EUR/USD";
  book->bids = {{*price::parse("1.1"), *quantity::parse("5")}};
  const auto e = event::create(event_type::order_book, "gw", order_book_ptr{book}, trace_context::new_root(),
                               timestamp{std::chrono::nanoseconds{1'577'916'000'065'000'000}})
                   .with_sequence(42);
  const auto plain = libra::event_json(e);
  CHECK(plain.rfind(R"({"type":"ORDER_BOOK","priority":"MARKET_DATA","time":"2020-01-01T22:00:00.065Z",)"
                    R"("time_ns":1577916000065000000,"source":"gw","sequence":42,"trace_id":")",
                    0)
        == 0);
  CHECK_THAT(plain, Catch::Contains(R"("traceparent":"00-)" + e.trace_id().to_hex()));
  CHECK_THAT(plain, Catch::Contains(R"("payload":{"instrument":"EUR/USD","bids":[{"price":"1.1","size":"5"}],)"
                                    R"("asks":[]}})"));
  CHECK(plain.find("parent_span_id") == std::string::npos);
  // A journal knows the parent span: libra-journal cat --json writes the same form with it.
  const auto with_parent = libra::event_json(e, span_id{0xabc});
  CHECK_THAT(with_parent, Catch::Contains(R"("parent_span_id":"0000000000000abc","payload":)"));
}

TEST_CASE("recorder: params are validated by the factory", "[actors][recorder][params]") {
  temp_dir dir;
  auto error_of = [&](const std::string& yaml) { return factory_error("recorder", yaml, dir.path()); };
  CHECK_THAT(error_of("types: [TICK]\n"), Catch::Contains("file: missing required key"));
  CHECK_THAT(error_of("file: x.jsonl\ntypes: [TICK, TIK]\n"),
             Catch::Contains("actors[0].params.types: unknown event type 'TIK'"));
  CHECK_THAT(error_of("file: x.jsonl\ntypes: [tick]\n"), Catch::Contains("unknown event type 'tick'"));
  CHECK_THAT(error_of("file: x.jsonl\ntypes: [TICK, TICK]\n"), Catch::Contains("'TICK' is listed twice"));
  CHECK_THAT(error_of("file: x.jsonl\ntypes: []\n"), Catch::Contains("expected at least one event type"));
  CHECK_THAT(error_of("file: x.jsonl\ntypes: TICK\n"), Catch::Contains("types: expected a list of strings"));
  // A file that does not exist yet is fine (it is created); nothing is created by the factory.
  auto p = make_params("file: new.jsonl\ntypes: [TICK]\n", dir.path());
  CHECK(io_type("recorder").factory(p));
  CHECK(p.unread().empty());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "new.jsonl"));
}

TEST_CASE("recorder: an unwritable file fails at spawn, before anything runs", "[actors][recorder]") {
  temp_dir dir;
  fixture fx;
  dir.write("blocker", "a file, not a directory");
  REQUIRE(factory_error("recorder", "file: blocker/x.jsonl\n", dir.path()) == "no error");
  CHECK_THROWS_WITH(fx.add(io_registry(), "recorder", "recorder", yaml_params("file: blocker/x.jsonl\n", dir.path())),
                    Catch::Contains("cannot write") && Catch::Contains("x.jsonl"));
}

TEST_CASE("recorder: a file another writer holds is refused at spawn and left as it was", "[actors][recorder][lock]") {
  temp_dir dir;
  fixture fx;
  const auto file = dir.write("held.jsonl", "another run's line\n");
  auto held = output_file::open(file); // as another run (or another output of this run) holds it
  REQUIRE(factory_error("recorder", "file: held.jsonl\n", dir.path()) == "no error");
  const auto spawn = [&] {
    fx.add(io_registry(), "recorder", "recorder", yaml_params("file: held.jsonl\n", dir.path()));
  };
  CHECK_THROWS_AS(spawn(), output_error);
  CHECK_THROWS_WITH(spawn(), Catch::Contains("held.jsonl") && Catch::Contains("locked"));
  CHECK(read_lines(file) == std::vector<std::string>{"another run's line"});
}

TEST_CASE("recorder: a FIFO, a device or a directory as the file is refused by the factory (--check)",
          "[actors][recorder][params]") {
  temp_dir dir;
  REQUIRE(::mkfifo((dir.path() / "fifo").c_str(), 0600) == 0);
  std::filesystem::create_directories(dir.path() / "adir");
  for (const auto* file : {"fifo", "/dev/full", "/dev/null", "adir"}) {
    INFO(file);
    CHECK_THAT(factory_error("recorder", fmt::format("file: {}\n", file), dir.path()),
               Catch::Contains("actors[0].params.file") && Catch::Contains("is not a regular file"));
  }
}

TEST_CASE("output_file: written at once, emptied only by truncate(), refuses what would block",
          "[actors][recorder][output]") {
  temp_dir dir;
  const auto file = dir.write("o.txt", "previous\n");
  {
    auto out = output_file::open(file);
    CHECK(read_lines(file) == std::vector<std::string>{"previous"}); // opening keeps the content
    REQUIRE(out.truncate());
    REQUIRE(out.write("one\n"));
    CHECK(read_lines(file) == std::vector<std::string>{"one"}); // no buffer: in the file already
    CHECK_THROWS_WITH(output_file::open(file), Catch::Contains("locked"));
  }
  CHECK_NOTHROW(output_file::open(file)); // the lock ends with the object
  REQUIRE(::mkfifo((dir.path() / "fifo").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(output_file::open(dir.path() / "fifo"),
                    Catch::Contains("it is a FIFO (named pipe), not a regular file"));
  CHECK_THROWS_WITH(output_file::open("/dev/full"), Catch::Contains("it is a character device"));
  CHECK_THROWS_WITH(output_file::open(dir.path() / "no" / "x"), Catch::Contains("No such file or directory"));
}

TEST_CASE("recorder with gateway.replay: every tick of the file is recorded, the actor system shuts down",
          "[actors][recorder][replay]") {
  temp_dir dir;
  std::string rows;
  for (int i = 0; i < 1000; ++i)
    rows += fmt::format("20200101 17{:02}{:02}{:03},1.1212,1.1217,0\n", i / 600, (i / 10) % 60, (i % 10) * 100);
  dir.write("q.csv", rows);
  {
    // Both actors in one directory, as the runtime runs them: neither may keep the other (or
    // itself) alive, or ~actor_system waits forever for the detached recorder.
    io_harness h;
    auto rec = h.spawn("recorder", make_params("file: ticks.jsonl\ntypes: [TICK, GATEWAY_DISCONNECTED]\n", dir.path()),
                       "recorder");
    auto gw =
      h.spawn("gateway.replay", make_params("file: q.csv\nformat: histdata_ticks\ninstrument: EUR/USD\n", dir.path()));
    REQUIRE(h.b.start());
    caf::anon_send(rec, run_atom::value);
    caf::anon_send(gw, run_atom::value);
    REQUIRE(h.wait_end().empty());
    REQUIRE_IDLE(h.b);
    caf::anon_send(gw, halt_atom::value);
    caf::anon_send(rec, halt_atom::value);
  }
  const auto lines = read_lines(dir.path() / "ticks.jsonl");
  REQUIRE(lines.size() == 1001);
  CHECK(field(parse_json(lines.front()), "time") == "2020-01-01T22:00:00.000Z");
  CHECK(field(parse_json(lines[999]), "time") == "2020-01-01T22:01:39.900Z");
  CHECK(field(parse_json(lines.back()), "type") == "GATEWAY_DISCONNECTED");
}
