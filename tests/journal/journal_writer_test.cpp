// The journal writer: what it writes reads back in order, segments roll at their size, a torn
// tail left by a crash is truncated by the next run, one writer per directory, and as a bus
// subscriber it journals every admitted event of its types.
#include "../support/temp_dir.hpp"
#include "journal_samples.hpp"

#include "../support/bus_fixture.hpp"

#include <journal/reader.hpp>
#include <journal/writer.hpp>

#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <span>

namespace {

using namespace libra;
using journal::segment_reader;

using libra::testing::temp_dir;

/// Every record of a journal directory, in file order; REQUIREs that it is intact.
std::vector<event> read_all(const std::filesystem::path& dir, std::vector<journal::segment_header>* headers = nullptr) {
  std::vector<event> out;
  for (const auto& f : journal::list_segments(dir)) {
    segment_reader rd{f};
    INFO(rd.last_problem().to_string());
    REQUIRE(rd.opened());
    if (headers != nullptr)
      headers->push_back(rd.header());
    journal::record r;
    segment_reader::status s{};
    while ((s = rd.next(r)) == segment_reader::status::record)
      out.push_back(r.ev);
    INFO(rd.last_problem().to_string());
    REQUIRE(s == segment_reader::status::end);
  }
  return out;
}

} // namespace

TEST_CASE("the journal writer's records read back in order, across segments", "[journal][writer]") {
  temp_dir dir;
  const auto samples = testing::journal_samples();
  journal::journal_config cfg;
  cfg.dir = dir.path() / "j";
  cfg.segment_bytes = 1024; // a few records per segment
  cfg.fsync = journal::fsync_policy::every_batch;
  {
    journal::journal_writer w{cfg};
    CHECK(w.notes().empty());
    for (int round = 0; round < 3; ++round) {
      if (round == 1) {
        w.append(std::span{samples}); // a batch under one lock: the same records
      } else {
        for (const auto& e : samples)
          w.append(e);
      }
      REQUIRE(w.flush(7));
    }
    REQUIRE(w.close());
    const auto s = w.stats();
    CHECK(s.records == 3 * samples.size());
    CHECK(s.segments > 3);
    CHECK(s.fsyncs >= 3);
    CHECK(s.max_lag_events == 7);
    std::uintmax_t on_disk = 0;
    for (const auto& f : journal::list_segments(cfg.dir))
      on_disk += std::filesystem::file_size(f);
    CHECK(s.bytes == on_disk);
  }
  std::vector<journal::segment_header> headers;
  const auto back = read_all(cfg.dir, &headers);
  REQUIRE(back.size() == 3 * samples.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    CHECK(back[i].sequence() == samples[i % samples.size()].sequence());
    CHECK(back[i].type() == samples[i % samples.size()].type());
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    CHECK(headers[i].index == i);
    CHECK(headers[i].run == headers[0].run);
    CHECK(headers[i].types == journal::all_types);
  }
}

TEST_CASE("with fsync every_batch, the journal confirms durable what it wrote, in order, across segments",
          "[journal][writer][mt]") {
  // The subscriber writes its buffers (write_pending: the actor's linger timer); a thread of the
  // writer's own fsyncs and confirms. A confirmation never runs ahead of what was written.
  temp_dir dir;
  journal::journal_config cfg;
  cfg.dir = dir.path() / "j";
  cfg.segment_bytes = 4096; // rolls while the fsync thread works
  cfg.fsync = journal::fsync_policy::every_batch;
  const auto sample = testing::journal_samples().front();
  constexpr std::uint64_t total = 600;
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t durable = 0;
  std::uint64_t written = 0; // the highest sequence handed to write_pending
  bool ahead = false;
  bool backwards = false;
  journal::journal_writer w{cfg};
  w.expect_from(1);
  w.on_durable([&](std::uint64_t through) {
    std::lock_guard guard{mu};
    ahead = ahead || through > written;
    backwards = backwards || through < durable;
    durable = std::max(durable, through);
    cv.notify_all();
  });
  for (std::uint64_t seq = 1; seq <= total; ++seq) {
    w.append_in_order(sample.with_sequence(seq));
    if (seq % 40 == 0 || seq == total) {
      {
        std::lock_guard guard{mu};
        written = seq;
      }
      REQUIRE(w.flush());
      REQUIRE(w.write_pending());
    }
  }
  {
    std::unique_lock lock{mu};
    CHECK(cv.wait_for(lock, std::chrono::seconds{20}, [&] { return durable == total; }));
    CHECK_FALSE(ahead);
    CHECK_FALSE(backwards);
  }
  REQUIRE(w.close());
  CHECK(w.stats().segments > 3);
  CHECK(w.stats().fsyncs > 0);
  const auto back = read_all(cfg.dir);
  REQUIRE(back.size() == total);
  for (std::size_t i = 0; i < back.size(); ++i)
    CHECK(back[i].sequence() == i + 1);
}

TEST_CASE("a new run truncates a torn tail and appends in a new segment", "[journal][writer][crash]") {
  temp_dir dir;
  const auto samples = testing::journal_samples();
  journal::journal_config cfg;
  cfg.dir = dir.path();
  {
    journal::journal_writer w{cfg};
    for (const auto& e : samples)
      w.append(e);
    REQUIRE(w.close());
  }
  const auto seg = journal::list_segments(dir.path()).at(0);
  const auto good_size = std::filesystem::file_size(seg);
  {
    // A record cut short: its header and half its body.
    std::vector<std::byte> rec;
    journal::encode_record(samples[0], rec);
    std::ofstream out{seg, std::ios::binary | std::ios::app};
    out.write(reinterpret_cast<const char*>(rec.data()), static_cast<std::streamsize>(rec.size() / 2));
  }
  REQUIRE(std::filesystem::file_size(seg) > good_size);
  {
    journal::journal_writer w{cfg};
    REQUIRE(w.notes().size() == 1);
    CHECK_THAT(w.notes()[0], Catch::Contains("truncated a torn tail") && Catch::Contains(seg.string() + ":")
                               && Catch::Contains("torn tail: record of"));
    CHECK(std::filesystem::file_size(seg) == good_size);
    for (const auto& e : samples)
      w.append(e);
    REQUIRE(w.close());
  }
  const auto segments = journal::list_segments(dir.path());
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].filename() == "00000002.journal");
  std::vector<journal::segment_header> headers;
  CHECK(read_all(dir.path(), &headers).size() == 2 * samples.size());
  CHECK(headers[0].run != headers[1].run);

  SECTION("a segment whose header a crash cut short is removed") {
    {
      std::ofstream out{dir.path() / "00000003.journal", std::ios::binary};
      out << "LIBRA";
    }
    journal::journal_writer w{cfg};
    REQUIRE(w.notes().size() == 1);
    CHECK_THAT(w.notes()[0], Catch::Contains("removed") && Catch::Contains("00000003.journal"));
    REQUIRE(w.close());
    const auto after = journal::list_segments(dir.path());
    REQUIRE(after.size() == 3);
    CHECK(after[2].filename() == "00000004.journal");
  }
}

TEST_CASE("one journal writer per directory", "[journal][writer]") {
  temp_dir dir;
  journal::journal_config cfg;
  cfg.dir = dir.path();
  journal::journal_writer first{cfg};
  CHECK_THROWS_WITH(journal::journal_writer{cfg}, Catch::Contains("locked"));
  // A file where the directory should be.
  cfg.dir = dir.path() / "file";
  std::ofstream{cfg.dir} << "x";
  CHECK_THROWS_WITH(journal::journal_writer{cfg}, Catch::Contains("not a directory"));
}

TEST_CASE("the journal subscriber writes every admitted event of its types", "[journal][writer][bus][mt]") {
  temp_dir dir;
  testing::system_fixture fx;
  bus_config bc;
  bc.capacity = 1000; // small: the journal's pace holds publishers back, nothing is lost
  bus b{fx.sys, bc};
  journal::journal_config cfg;
  cfg.dir = dir.path();
  cfg.types = type_bit(event_type::tick) | type_bit(event_type::signal) | type_bit(event_type::circuit_breaker);
  auto w = std::make_shared<journal::journal_writer>(cfg);
  std::atomic<int> errors{0};
  auto actor = journal::spawn_journal(fx.sys, b, w, [&](const std::string&) { ++errors; });
  REQUIRE(b.start());
  std::set<std::uint64_t> expected;
  constexpr int n = 20'000;
  auto pub = b.make_publisher();
  for (int i = 0; i < n; ++i) {
    auto e = i % 100 == 0  ? testing::make_risk()
             : i % 10 == 0 ? testing::make_signal(i)
             : i % 7 == 0  ? testing::make_order(event_type::order_new, static_cast<std::uint64_t>(i))
                           : testing::make_tick(i);
    const bool journaled = e.type() != event_type::order_new;
    REQUIRE(testing::eventually([&] { return static_cast<bool>(pub.publish(e)); }));
    // The sequence the bus gave it: every publish is admitted once, in order, from 1.
    if (journaled)
      expected.insert(b.published());
  }
  REQUIRE(b.wait_idle(testing::patience));
  b.stop();
  REQUIRE(w->close());
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  CHECK(errors == 0);
  const auto back = read_all(dir.path());
  std::set<std::uint64_t> seen;
  std::uint64_t prev = 0;
  for (const auto& e : back) {
    CHECK(e.sequence() > prev); // admission order, though RISK events overtake in dispatch
    prev = e.sequence();
    CHECK(seen.insert(e.sequence()).second);
    CHECK(e.type() != event_type::order_new);
  }
  CHECK(seen == expected);
  CHECK(w->stats().records == expected.size());
}
