// The journal's record format: every event type round-trips field for field; the bytes match the
// golden file checked in (a layout change must be a new format version); corrupt input is
// reported with file and offset.
#include "../support/temp_dir.hpp"
#include "journal_samples.hpp"

#include <journal/codec.hpp>
#include <journal/reader.hpp>
#include <journal/render.hpp>

#include <libra/json.hpp>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace {

using namespace libra;
namespace jf = journal_format;
using journal::segment_reader;

void check_same(const tick& a, const tick& b) {
  CHECK(a.instrument == b.instrument);
  CHECK(a.bid == b.bid);
  CHECK(a.ask == b.ask);
  CHECK(a.bid_size == b.bid_size);
  CHECK(a.ask_size == b.ask_size);
  CHECK(a.last == b.last);
  CHECK(a.last_size == b.last_size);
}
void check_same(const bar& a, const bar& b) {
  CHECK(a.instrument == b.instrument);
  CHECK(a.open == b.open);
  CHECK(a.high == b.high);
  CHECK(a.low == b.low);
  CHECK(a.close == b.close);
  CHECK(a.volume == b.volume);
  CHECK(a.interval == b.interval);
}
void check_levels(const std::vector<book_level>& a, const std::vector<book_level>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].price == b[i].price);
    CHECK(a[i].size == b[i].size);
  }
}
void check_same(const order_book_ptr& a, const order_book_ptr& b) {
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->instrument == b->instrument);
  check_levels(a->bids, b->bids);
  check_levels(a->asks, b->asks);
}
void check_same(const order& a, const order& b) {
  CHECK(a.id == b.id);
  CHECK(a.client_id == b.client_id);
  CHECK(a.instrument == b.instrument);
  CHECK(a.quantity == b.quantity);
  CHECK(a.price == b.price);
  CHECK(a.side == b.side);
  CHECK(a.type == b.type);
  CHECK(a.status == b.status);
  CHECK(a.reason == b.reason);
}
void check_same(const fill& a, const fill& b) {
  CHECK(a.id == b.id);
  CHECK(a.client_id == b.client_id);
  CHECK(a.instrument == b.instrument);
  CHECK(a.price == b.price);
  CHECK(a.quantity == b.quantity);
  CHECK(a.fee == b.fee);
  CHECK(a.side == b.side);
}
void check_same(const position& a, const position& b) {
  CHECK(a.instrument == b.instrument);
  CHECK(a.quantity == b.quantity);
  CHECK(a.average_price == b.average_price);
  CHECK(a.realized_pnl == b.realized_pnl);
  CHECK(a.unrealized_pnl == b.unrealized_pnl);
}
void check_same(const risk& a, const risk& b) {
  CHECK(a.rule == b.rule);
  CHECK(a.instrument == b.instrument);
  CHECK(std::memcmp(&a.limit, &b.limit, sizeof a.limit) == 0);
  CHECK(std::memcmp(&a.value, &b.value, sizeof a.value) == 0);
  CHECK(static_cast<bool>(a.message) == static_cast<bool>(b.message));
  CHECK(a.text() == b.text());
}
void check_same(const libra::signal& a, const libra::signal& b) {
  CHECK(a.instrument == b.instrument);
  CHECK(a.side == b.side);
  CHECK(std::memcmp(&a.strength, &b.strength, sizeof a.strength) == 0);
  CHECK(a.reference == b.reference);
}
void check_same(const libra::system& a, const libra::system& b) { CHECK(a.component == b.component); }

void check_same(const event& a, const event& b) {
  INFO(to_string(a));
  REQUIRE(a.type() == b.type());
  CHECK(a.priority() == b.priority());
  CHECK(a.time() == b.time());
  CHECK(a.sequence() == b.sequence());
  CHECK(a.source() == b.source());
  CHECK(a.trace() == b.trace());
  a.visit([&](const auto& pa) { check_same(pa, b.get<std::decay_t<decltype(pa)>>()); });
}

journal::segment_header golden_header() {
  journal::segment_header h;
  h.created = timestamp{std::chrono::nanoseconds{1'764'547'200'000'000'000}};
  h.run = trace_id{0x1111222233334444ULL, 0x5555666677778888ULL};
  h.index = 0;
  h.types = (1U << event_type_count) - 1;
  return h;
}

/// A segment: the golden header, then every sample (the last one with a parent span).
std::vector<std::byte> sample_segment() {
  std::vector<std::byte> out;
  const auto h = journal::encode_header(golden_header());
  out.insert(out.end(), h.begin(), h.end());
  const auto samples = testing::journal_samples();
  for (std::size_t i = 0; i < samples.size(); ++i)
    journal::encode_record(samples[i], out, i + 1 == samples.size() ? std::optional{span_id{0xabcdef}} : std::nullopt);
  return out;
}

using libra::testing::temp_dir;

std::filesystem::path write_file(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out{p, std::ios::binary};
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p;
}

std::vector<std::byte> read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::vector<char> chars{std::istreambuf_iterator<char>{in}, {}};
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

/// The key=value pairs of libra-journal's text form, in order; a quoted value is a JSON string.
std::vector<std::pair<std::string, std::string>> text_pairs(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < line.size()) {
    const auto eq = line.find('=', i);
    REQUIRE(eq != std::string_view::npos);
    std::string key{line.substr(i, eq - i)};
    std::size_t end = eq + 1;
    std::string value;
    if (end < line.size() && line[end] == '"') {
      for (++end; end < line.size() && line[end] != '"'; ++end)
        if (line[end] == '\\')
          ++end;
      ++end; // past the closing quote
      value = YAML::Load(std::string{line.substr(eq + 1, end - eq - 1)}).as<std::string>();
    } else {
      end = std::min(line.find(' ', end), line.size());
      value = std::string{line.substr(eq + 1, end - eq - 1)};
    }
    out.emplace_back(std::move(key), std::move(value));
    i = end + 1;
  }
  return out;
}

const std::filesystem::path golden_path = std::filesystem::path{LIBRA_SOURCE_DIR} / "tests/journal/golden/v1.journal";

} // namespace

TEST_CASE("every event type round-trips through a record field for field", "[journal][format]") {
  const auto samples = testing::journal_samples();
  // Every type is covered.
  std::uint32_t seen = 0;
  for (const auto& e : samples)
    seen |= type_bit(e.type());
  CHECK(seen == (1U << event_type_count) - 1);
  for (const auto& e : samples) {
    std::vector<std::byte> buf;
    journal::encode_record(e, buf);
    REQUIRE(buf.size() >= jf::record_header_size + jf::min_body_size);
    CHECK(journal::load_u32(buf.data()) == buf.size() - jf::record_header_size);
    const std::span<const std::byte> body{buf.data() + jf::record_header_size, buf.size() - jf::record_header_size};
    CHECK(journal::body_checksum(body) == journal::load_u64(buf.data() + 4));
    journal::record r;
    const auto err = journal::decode_body(body, r);
    INFO(err.value_or(""));
    REQUIRE_FALSE(err);
    check_same(e, r.ev);
    CHECK_FALSE(r.parent);
  }
}

TEST_CASE("an event's text form has its JSON form's payload fields, names, order and values", "[journal][format]") {
  // libra-journal cat prints one or the other (--json): a field must not change its name between them.
  for (const auto& e : testing::journal_samples()) {
    INFO(to_string(e.type()));
    const auto text = text_pairs(journal::payload_text(e));
    const auto json = YAML::Load(event_json(e))["payload"];
    REQUIRE(json.IsMap());
    REQUIRE(text.size() == json.size());
    std::size_t i = 0;
    for (const auto& kv : json) {
      const auto& [key, value] = text.at(i++);
      CHECK(key == kv.first.as<std::string>());
      if (kv.second.IsScalar()) {
        INFO(key);
        CHECK(value == kv.second.as<std::string>());
      } else { // an order book's side: price x size, comma-separated
        std::string levels;
        for (const auto& l : kv.second)
          levels += (levels.empty() ? "" : ",") + l["price"].as<std::string>() + "x" + l["size"].as<std::string>();
        CHECK(value == levels);
      }
    }
  }
}

TEST_CASE("the writer's buffer holds the same records as the plain encoder, however large", "[journal][format]") {
  // The buffer's encoder writes a record in one pass into a guessed room and sizes it first only
  // when it does not fit: a deep book and a long risk text take that path, mid-buffer.
  auto samples = testing::journal_samples();
  auto deep = std::make_shared<order_book>();
  deep->instrument = "EUR/USD";
  for (std::int64_t i = 0; i < 200; ++i) {
    deep->bids.push_back({price::from_raw(1'000'000'000 - i), quantity::from_raw(i + 1)});
    deep->asks.push_back({price::from_raw(1'000'000'001 + i), quantity::from_raw(i + 2)});
  }
  samples.push_back(event::create(event_type::order_book, "gateway.test", order_book_ptr{deep}));
  samples.push_back(event::create(
    event_type::circuit_breaker, "risk.test",
    risk{risk_rule::circuit_breaker, {}, 1.0, 2.0, std::make_shared<const std::string>(std::string(2000, 'x'))}));
  samples.push_back(samples.front()); // a small one after the large ones
  std::vector<std::byte> plain;
  journal::byte_buffer buf;
  for (const auto& e : samples) {
    journal::encode_record(e, plain);
    journal::encode_record(e, buf);
  }
  REQUIRE(buf.size() == plain.size());
  CHECK(std::memcmp(buf.data(), plain.data(), plain.size()) == 0);
}

TEST_CASE("a segment of all event types matches the golden file byte for byte", "[journal][format][golden]") {
  const auto bytes = sample_segment();
  if (std::getenv("LIBRA_UPDATE_GOLDEN") != nullptr)
    write_file(golden_path, bytes);
  const auto golden = read_file(golden_path);
  REQUIRE(golden.size() == bytes.size()); // a change here is a format change: bump format_version
  CHECK(std::memcmp(golden.data(), bytes.data(), bytes.size()) == 0);

  // And the golden file reads back as the samples.
  segment_reader rd{golden_path};
  REQUIRE(rd.opened());
  CHECK(rd.header().version == jf::format_version);
  CHECK(rd.header().run == golden_header().run);
  CHECK(rd.header().created == golden_header().created);
  CHECK(rd.header().types == golden_header().types);
  const auto samples = testing::journal_samples();
  journal::record r;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    REQUIRE(rd.next(r) == segment_reader::status::record);
    check_same(samples[i], r.ev);
    CHECK(r.parent.has_value() == (i + 1 == samples.size()));
  }
  CHECK(r.parent == span_id{0xabcdef});
  CHECK(rd.next(r) == segment_reader::status::end);
}

TEST_CASE("journal corruption is reported with file and offset, never a crash", "[journal][format][corrupt]") {
  temp_dir dir;
  const auto good = sample_segment();
  // Offsets of the records.
  std::vector<std::uint64_t> offsets;
  {
    segment_reader rd{write_file(dir.path() / "00000001.journal", good)};
    journal::record r;
    while (rd.next(r) == segment_reader::status::record)
      offsets.push_back(rd.record_offset());
  }
  REQUIRE(offsets.size() == testing::journal_samples().size());
  journal::record r;

  SECTION("a flipped byte in a record: corrupt at that record; skip goes on with the next") {
    auto bad = good;
    bad[offsets[3] + jf::record_header_size + 20] ^= std::byte{0x40};
    segment_reader rd{write_file(dir.path() / "00000002.journal", bad)};
    for (int i = 0; i < 3; ++i)
      REQUIRE(rd.next(r) == segment_reader::status::record);
    REQUIRE(rd.next(r) == segment_reader::status::corrupt);
    CHECK(rd.last_problem().offset == offsets[3]);
    CHECK_THAT(rd.last_problem().to_string(), Catch::Contains("00000002.journal:" + std::to_string(offsets[3]))
                                                && Catch::Contains("checksum mismatch"));
    std::uint64_t skipped = 0;
    REQUIRE(rd.skip(skipped));
    CHECK(skipped == offsets[4] - offsets[3]);
    std::size_t rest = 0;
    while (rd.next(r) == segment_reader::status::record)
      ++rest;
    CHECK(rest == offsets.size() - 4);
  }
  SECTION("a damaged length that runs past the end, whole records after it: corrupt, not a torn tail") {
    auto bad = good;
    const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(good.size(), jf::max_body_size));
    REQUIRE(offsets[2] + jf::record_header_size + len > good.size()); // past the end of the file
    for (std::size_t i = 0; i < 4; ++i)
      bad[offsets[2] + i] = static_cast<std::byte>((len >> (8 * i)) & 0xffu); // little-endian length
    segment_reader rd{write_file(dir.path() / "00000005.journal", bad)};
    for (int i = 0; i < 2; ++i)
      REQUIRE(rd.next(r) == segment_reader::status::record);
    REQUIRE(rd.next(r) == segment_reader::status::corrupt);
    CHECK(rd.last_problem().offset == offsets[2]);
    std::uint64_t skipped = 0;
    REQUIRE(rd.skip(skipped));
    CHECK(skipped == offsets[3] - offsets[2]);
  }
  SECTION("a truncated last record is a torn tail; valid_end is the last complete record") {
    for (std::size_t cut : {std::size_t{1}, std::size_t{5}, std::size_t{13}, std::size_t{40}}) {
      auto bad = good;
      bad.resize(bad.size() - cut);
      segment_reader rd{write_file(dir.path() / "00000003.journal", bad)};
      std::size_t n = 0;
      segment_reader::status s{};
      while ((s = rd.next(r)) == segment_reader::status::record)
        ++n;
      CHECK(s == segment_reader::status::torn_tail);
      CHECK(n == offsets.size() - 1);
      CHECK(rd.valid_end() == offsets.back());
      CHECK(rd.last_problem().offset == offsets.back());
      CHECK_THAT(rd.last_problem().what, Catch::StartsWith("torn tail"));
    }
  }
  SECTION("a truncated header, an empty file, a future version, not a journal") {
    auto expect_refused = [&](const std::vector<std::byte>& bytes, const std::string& what) {
      segment_reader rd{write_file(dir.path() / "00000004.journal", bytes)};
      CHECK_FALSE(rd.opened());
      CHECK_THAT(rd.last_problem().to_string(), Catch::Contains("00000004.journal:0: " + what));
      CHECK(rd.next(r) == segment_reader::status::corrupt);
    };
    expect_refused({good.begin(), good.begin() + 30}, "truncated segment header: 30 of 64 bytes");
    expect_refused({}, "empty file: no segment header");
    auto future = good;
    future[8] = std::byte{2};
    expect_refused(future, "segment format version 2 (this libra reads version 1 and older)");
    auto other = good;
    other[0] = std::byte{'X'};
    expect_refused(other, "not a libra journal segment (bad magic)");
  }
  SECTION("a record whose checksum holds but whose fields do not is corrupt, not a crash") {
    // A source length past its limit, with the checksum recomputed.
    auto bad = good;
    const auto at = offsets[0];
    const auto len = journal::load_u32(bad.data() + at);
    bad[at + jf::record_header_size + 44] = std::byte{200};
    const auto sum = journal::body_checksum({bad.data() + at + jf::record_header_size, len});
    std::memcpy(bad.data() + at + 4, &sum, sizeof sum);
    segment_reader rd{write_file(dir.path() / "00000005.journal", bad)};
    REQUIRE(rd.next(r) == segment_reader::status::corrupt);
    CHECK_THAT(rd.last_problem().what, Catch::Contains("source of 200 bytes"));
  }
}
