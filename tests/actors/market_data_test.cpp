// The market-data parsers and reader of gateway.replay, without actors: every bad-row case with
// its message and line, HistData's UTC-05:00 conversion, TrueFX's optional fraction, and the
// real data files when present.
#include "io_fixture.hpp"

#include <gateway/market_data.hpp>

#include <catch2/catch.hpp>

#include <fstream>

#include <sys/resource.h>

using namespace libra;
using namespace libra::testing;
using namespace libra::actors::md;
using libra::testing::temp_dir;
using namespace std::chrono;

namespace {

quote_row row_of(const parse_result& r) {
  if (const auto* err = std::get_if<std::string>(&r))
    FAIL("parse error: " << *err);
  return std::get<quote_row>(r);
}

std::string error_of(const parse_result& r) {
  if (std::holds_alternative<quote_row>(r))
    FAIL("parsed, expected an error");
  return std::get<std::string>(r);
}

// Reads rows until the end; the error of the first bad row (with its line), if any.
struct read_outcome {
  std::size_t rows = 0;
  std::size_t error_line = 0;
  std::string error_reason;
  std::string error_what;
};

read_outcome read_all(const std::filesystem::path& p, format fmt) {
  read_outcome out;
  quote_reader r{p, fmt};
  try {
    while (r.next())
      ++out.rows;
  } catch (const bad_row_error& e) {
    out.error_line = e.line();
    out.error_reason = e.reason();
    out.error_what = e.what();
  }
  return out;
}

} // namespace

TEST_CASE("histdata: EST without DST (UTC-05:00) is converted to UTC", "[actors][gateway][market_data]") {
  const auto r = row_of(parse_histdata("20200101 170000065,1.121200,1.121720,0"));
  CHECK(format_utc(r.time) == "2020-01-01T22:00:00.065Z");
  CHECK(r.time == sys_days{2020y / January / 1} + 22h + 65ms);
  CHECK(r.bid == px("1.1212"));
  CHECK(r.ask == px("1.12172"));
  CHECK(r.bid.raw() == 1'121'200'000); // exact, no binary rounding

  SECTION("the conversion crosses midnight") {
    const auto late = row_of(parse_histdata("20200101 235959999,1.1,1.2,0"));
    CHECK(format_utc(late.time) == "2020-01-02T04:59:59.999Z");
  }
  SECTION("and the end of a year") {
    const auto nye = row_of(parse_histdata("20191231 190000000,1.1,1.2,0"));
    CHECK(format_utc(nye.time) == "2020-01-01T00:00:00.000Z");
  }
  SECTION("a locked quote (bid == ask) is valid") {
    CHECK(std::holds_alternative<quote_row>(parse_histdata("20200101 170000065,1.1212,1.1212,0")));
  }
}

TEST_CASE("histdata: bad rows say what is wrong", "[actors][gateway][market_data]") {
  CHECK(error_of(parse_histdata("20200101 170000065,1.121200,1.121720"))
        == "expected 4 columns (datetime,bid,ask,volume), found 3");
  CHECK(error_of(parse_histdata("20200101 170000065,1.1212,1.1217,0,9"))
        == "expected 4 columns (datetime,bid,ask,volume), found 5");
  CHECK(error_of(parse_histdata("")) == "expected 4 columns (datetime,bid,ask,volume), found 1");
  CHECK(error_of(parse_histdata("20200101 170000065,abc,1.121720,0")) == "bid 'abc' is not a decimal number");
  CHECK(error_of(parse_histdata("20200101 170000065,1.1212,NaN,0")) == "ask 'NaN' is not a decimal number");
  CHECK(error_of(parse_histdata("20200101 170000065,nan,1.1,0")) == "bid 'nan' is not a decimal number");
  CHECK(error_of(parse_histdata("20200101 170000065,1.1212,inf,0")) == "ask 'inf' is not a decimal number");
  CHECK(error_of(parse_histdata("20200101 170000065,-1.1212,1.1217,0")) == "bid -1.1212 is not positive");
  CHECK(error_of(parse_histdata("20200101 170000065,0,1.1217,0")) == "bid 0 is not positive");
  CHECK(error_of(parse_histdata("20200101 170000065,,1.1217,0")) == "bid is empty");
  CHECK(error_of(parse_histdata("20200101 170000065,1.1218,1.1217,0"))
        == "crossed quote: bid 1.1218 is above ask 1.1217");
  CHECK(error_of(parse_histdata("20200101 170000065,1.1212,1.1217,x")) == "volume 'x' is not a non-negative number");
  CHECK(error_of(parse_histdata("20200101 170000065,1.1212,1.1217,-1")) == "volume '-1' is not a non-negative number");
  CHECK(error_of(parse_histdata("2020-01-01 17:00:00,1.1212,1.1217,0"))
        == "datetime '2020-01-01 17:00:00' is not 'YYYYMMDD HHMMSSfff'");
  CHECK(error_of(parse_histdata("20200101T170000065,1.1212,1.1217,0"))
        == "datetime '20200101T170000065' is not 'YYYYMMDD HHMMSSfff'");
  CHECK(error_of(parse_histdata("20201301 170000065,1.1212,1.1217,0"))
        == "datetime '20201301 170000065' is not a valid date and time");
  CHECK(error_of(parse_histdata("20200230 170000065,1.1212,1.1217,0"))
        == "datetime '20200230 170000065' is not a valid date and time");
  CHECK(error_of(parse_histdata("20200101 246000065,1.1212,1.1217,0"))
        == "datetime '20200101 246000065' is not a valid date and time");
}

TEST_CASE("truefx: UTC, the fraction of a second is optional", "[actors][gateway][market_data]") {
  const auto r = row_of(parse_truefx("2013-01-01 22:00:00.295000+00:00,86.655,86.728"));
  CHECK(format_utc(r.time) == "2013-01-01T22:00:00.295Z");
  CHECK(r.bid == px("86.655"));
  CHECK(r.ask == px("86.728"));
  // pandas drops a zero fraction (a real row of usdjpy_quotes_truefx_20130101.csv).
  const auto whole = row_of(parse_truefx("2013-01-01 22:09:27+00:00,86.668,86.698"));
  CHECK(whole.time == sys_days{2013y / January / 1} + 22h + 9min + 27s);
  CHECK(format_utc(whole.time) == "2013-01-01T22:09:27.000Z");
  CHECK(format_utc(row_of(parse_truefx("2013-01-01 22:09:27.5+00:00,1,2")).time) == "2013-01-01T22:09:27.500Z");
  CHECK(format_utc(row_of(parse_truefx("2013-01-01 22:09:27.123456789+00:00,1,2")).time)
        == "2013-01-01T22:09:27.123456789Z");
  // Another offset is converted to UTC.
  CHECK(format_utc(row_of(parse_truefx("2013-01-01 17:09:27-05:00,1,2")).time) == "2013-01-01T22:09:27.000Z");
}

TEST_CASE("truefx: bad rows say what is wrong", "[actors][gateway][market_data]") {
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00.295000+00:00,86.655"))
        == "expected 3 columns (timestamp,bid,ask), found 2");
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00.295000,86.655,86.728"))
        == "timestamp '2013-01-01 22:00:00.295000' is not 'YYYY-MM-DD HH:MM:SS[.fraction]+HH:MM'");
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00.+00:00,86.655,86.728"))
        == "timestamp '2013-01-01 22:00:00.+00:00' has a fraction of a second that is not 1 to 9 digits");
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00.1234567890+00:00,86.655,86.728"))
        == "timestamp '2013-01-01 22:00:00.1234567890+00:00' has a fraction of a second that is not 1 to 9 digits");
  CHECK(error_of(parse_truefx("2013-02-29 22:00:00+00:00,86.655,86.728"))
        == "timestamp '2013-02-29 22:00:00+00:00' is not a valid date and time");
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00+00:00,86.655,")) == "ask is empty");
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00+00:00,86.8,86.7")) == "crossed quote: bid 86.8 is above ask 86.7");
  CHECK(error_of(parse_truefx("2013-01-01 22:00:00+00:00,-86.8,86.7")) == "bid -86.8 is not positive");
}

TEST_CASE("reader: a bad row is reported with file:line, and reading goes on after it",
          "[actors][gateway][market_data]") {
  temp_dir dir;
  const auto p = dir.write("q.csv", "20200101 170000065,1.1212,1.1217,0\n"
                                    "20200101 170000066,1.1212,1.1217,0\n"
                                    "20200101 170000067,1.1218,1.1217,0\n" // line 3: crossed
                                    "20200101 170000068,1.1212,1.1217,0\n");
  quote_reader r{p, format::histdata_ticks};
  REQUIRE(r.next());
  REQUIRE(r.next());
  try {
    (void)r.next();
    FAIL("no error for the crossed quote");
  } catch (const bad_row_error& e) {
    CHECK(e.line() == 3);
    CHECK(e.reason() == "crossed quote: bid 1.1218 is above ask 1.1217");
    CHECK(std::string{e.what()} == p.string() + ":3: crossed quote: bid 1.1218 is above ask 1.1217");
  }
  const auto fourth = r.next();
  REQUIRE(fourth);
  CHECK(format_utc(fourth->time) == "2020-01-01T22:00:00.068Z");
  CHECK(r.line() == 4);
  CHECK_FALSE(r.next());
}

TEST_CASE("reader: each bad-row case at its line", "[actors][gateway][market_data]") {
  temp_dir dir;
  const std::string good1 = "20200101 170000065,1.1212,1.1217,0\n";
  const std::string good2 = "20200101 170000070,1.1212,1.1217,0\n";
  struct bad_case {
    const char* name;
    std::string text;
    std::size_t line;
    std::string reason;
  };
  const std::vector<bad_case> cases{
    {"missing column", good1 + "20200101 170000066,1.1212\n" + good2, 2,
     "expected 4 columns (datetime,bid,ask,volume), found 2"},
    {"non-numeric", good1 + good2 + "20200101 170000071,1.12x,1.1217,0\n", 3, "bid '1.12x' is not a decimal number"},
    {"NaN", good1 + "20200101 170000066,NaN,1.1217,0\n", 2, "bid 'NaN' is not a decimal number"},
    {"negative", good1 + "20200101 170000066,1.1212,-1.1217,0\n", 2, "ask -1.1217 is not positive"},
    {"crossed", good1 + "20200101 170000066,1.2,1.1,0\n", 2, "crossed quote: bid 1.2 is above ask 1.1"},
    {"backwards", good2 + good1, 2,
     "time goes backwards: 2020-01-01T22:00:00.065Z is before the previous row's 2020-01-01T22:00:00.070Z"},
    {"truncated last line", good1 + "20200101 170000070,1.1212,1.12", 2,
     "last line has no line break: the file looks truncated"},
    {"truncated last line that parses", good1 + good2.substr(0, good2.size() - 1), 2,
     "last line has no line break: the file looks truncated"},
    {"too long", good1 + std::string(max_line_length + 10, '1') + "\n" + good2, 2, "line longer than 4096 bytes"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto out = read_all(dir.write("bad.csv", c.text), format::histdata_ticks);
    CHECK(out.error_line == c.line);
    CHECK(out.error_reason == c.reason);
    CHECK(out.error_what == (dir.path() / "bad.csv").string() + ":" + std::to_string(c.line) + ": " + c.reason);
    CHECK(out.rows == c.line - 1);
  }
}

TEST_CASE("reader: blank lines, CRLF and a byte order mark are accepted, lines keep their numbers",
          "[actors][gateway][market_data]") {
  temp_dir dir;
  const auto p = dir.write("crlf.csv", "\xEF\xBB\xBF"
                                       "20200101 170000065,1.1212,1.1217,0\r\n"
                                       "\r\n"
                                       "20200101 170000066,1.1212,1.1217,0\r\n"
                                       "20200101 170000067,x,1.1217,0\r\n");
  const auto out = read_all(p, format::histdata_ticks);
  CHECK(out.rows == 2);
  CHECK(out.error_line == 4);
  CHECK(out.error_reason == "bid 'x' is not a decimal number");
  CHECK(read_all(dir.write("empty.csv", ""), format::histdata_ticks).rows == 0);
}

TEST_CASE("reader: a line too long for the buffer is skipped whole", "[actors][gateway][market_data]") {
  temp_dir dir;
  // Longer than the reader's block too, so it spans refills.
  const auto p = dir.write("long.csv", std::string(200'000, 'x') + "\n20200101 170000065,1.1212,1.1217,0\n");
  quote_reader r{p, format::histdata_ticks};
  CHECK_THROWS_AS(r.next(), bad_row_error);
  CHECK(r.line() == 1);
  const auto row = r.next();
  REQUIRE(row);
  CHECK(r.line() == 2);
  CHECK_FALSE(r.next());
}

TEST_CASE("reader: a 256 MiB single line costs no more memory than a short one",
          "[actors][gateway][market_data][memory]") {
  temp_dir dir;
  const auto p = dir.path() / "huge.csv";
  {
    std::ofstream out{p, std::ios::binary};
    const std::string chunk(1 << 20, '7');
    for (int i = 0; i < 256; ++i)
      out << chunk;
    out << "\n20200101 170000065,1.1212,1.1217,0\n";
  }
  const auto peak_kib = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
  };
  const auto before = peak_kib();
  quote_reader r{p, format::histdata_ticks};
  CHECK_THROWS_WITH(r.next(), Catch::Contains(":1: line longer than 4096 bytes"));
  REQUIRE(r.next()); // and the next line still reads
  CHECK_FALSE(r.next());
  // The reader streams the line through its fixed block: the peak grows by far less than the
  // line (256 MiB); 8 MiB leaves room for the allocator and the test's own bookkeeping.
  CHECK(peak_kib() - before < 8 * 1024);
}

TEST_CASE("reader: TrueFX needs its header", "[actors][gateway][market_data]") {
  temp_dir dir;
  const std::string rows = "2013-01-01 22:00:00.295000+00:00,86.655,86.728\n"
                           "2013-01-01 22:09:27+00:00,86.668,86.698\n";
  CHECK(read_all(dir.write("ok.csv", "timestamp,bid,ask\n" + rows), format::truefx_ticks).rows == 2);
  const auto missing = read_all(dir.write("nohdr.csv", rows), format::truefx_ticks);
  CHECK(missing.error_line == 1);
  CHECK(missing.error_reason
        == "expected the header 'timestamp,bid,ask', found '2013-01-01 22:00:00.295000+00:00,86.655,86.728'");
  // A HistData file read as TrueFX fails at once.
  const auto wrong = read_all(dir.write("hd.csv", "20200101 170000065,1.1212,1.1217,0\n"), format::truefx_ticks);
  CHECK(wrong.error_line == 1);
}

TEST_CASE("reader: a missing file cannot be opened", "[actors][gateway][market_data]") {
  temp_dir dir;
  CHECK_THROWS_WITH(quote_reader(dir.path() / "nope.csv", format::histdata_ticks),
                    Catch::Contains("nope.csv: cannot open"));
}

TEST_CASE("reader: the real data files read whole, in time order", "[actors][gateway][market_data][data]") {
  const std::filesystem::path data{LIBRA_SOURCE_DIR "/data"};
  const auto eurusd = data / "eurusd_quotes_histdata_20200101.csv";
  if (std::filesystem::exists(eurusd)) {
    quote_reader r{eurusd, format::histdata_ticks};
    std::size_t n = 0;
    std::optional<quote_row> first;
    std::optional<quote_row> last;
    while (auto row = r.next()) {
      if (!first)
        first = row;
      last = row;
      ++n;
    }
    CHECK(n == 9500);
    CHECK(format_utc(first->time) == "2020-01-01T22:00:00.065Z");
    CHECK(format_utc(last->time) == "2020-01-02T04:00:52.125Z");
  } else {
    WARN("no " << eurusd << ": skipped");
  }
  const auto usdjpy = data / "usdjpy_quotes_truefx_20130101.csv";
  if (std::filesystem::exists(usdjpy)) {
    const auto out = read_all(usdjpy, format::truefx_ticks);
    CHECK(out.error_what.empty());
    CHECK(out.rows == 1000);
  } else {
    WARN("no " << usdjpy << ": skipped");
  }
}
