// The fuzz entry points, shared by the libFuzzer harnesses (fuzz_*.cpp) and the regression test
// that replays the corpus and every kept crash input (fuzz_regression_test.cpp).
//
// Documented outcomes:
//  - topology: load_topology either returns a topology that satisfies the loader's own checks,
//    or throws libra::config_error with a message. Any other exception, a crash, a sanitizer
//    report or a hang is a finding.
//  - market data: parse_histdata / parse_truefx return a row or a reason; a row always has
//    0 < bid <= ask and prints and parses back to itself. quote_reader yields exactly the rows
//    and bad_row_errors (line, reason) of a plain in-memory reference reader written here, also
//    when the input sits across the reader's 64 KiB refill boundary.
// A broken invariant throws libra::fuzz::finding.
#pragma once

#include "core/topology.hpp"

#include <builtin.hpp>
#include <gateway/market_data.hpp>
#include <libra/actor_registry.hpp>
#include <libra/config_error.hpp>
#include <libra/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace libra::fuzz {

/// A broken invariant: what the fuzzers report as a finding.
class finding : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

/// A per-process temporary directory (under $TMPDIR) where inputs are written as files, with
/// small data files a topology can name by a relative path: ticks.csv (HistData), truefx.csv.
class sandbox {
public:
  explicit sandbox(const std::string& tag)
    : dir_{std::filesystem::temp_directory_path()
           / fmt::format("libra-fuzz-{}-{}-{}", tag, ::getpid(), std::random_device{}())} {
    std::filesystem::create_directories(dir_);
    write("ticks.csv", "20200101 170000065,1.121200,1.121720,0\n"
                       "20200101 170010447,1.121200,1.121920,0\n");
    write("truefx.csv", "timestamp,bid,ask\n"
                        "2020-01-01 22:00:00.065+00:00,1.1212,1.12172\n"
                        "2020-01-01 22:00:10.447123+00:00,1.1212,1.12192\n");
  }
  ~sandbox() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  sandbox(const sandbox&) = delete;
  sandbox& operator=(const sandbox&) = delete;

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  /// Writes data exactly to name in the sandbox; returns its path.
  std::filesystem::path write(const std::string& name, std::string_view data) const {
    auto p = dir_ / name;
    std::ofstream out{p, std::ios::binary | std::ios::trunc};
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out)
      throw std::runtime_error(fmt::format("fuzz sandbox: cannot write {}", p.string()));
    return p;
  }

private:
  std::filesystem::path dir_;
};

// -- topology -----------------------------------------------------------------------------------

enum class topology_outcome { loaded, config_error };

/// Loads text as a topology file (sandbox/topology.yaml) with the built-in actor types.
inline topology_outcome run_topology(const sandbox& box, std::string_view text) {
  const auto file = box.write("topology.yaml", text);
  actor_registry registry;
  actors::register_builtin_actors(registry);
  try {
    const auto topo = core::load_topology(file, registry);
    if (topo.actors.empty())
      throw finding("loaded a topology without actors");
    std::set<std::string> names;
    bool any_producer = false;
    for (const auto& a : topo.actors) {
      if (a.name.empty() || !source_id::fits(a.name) || !names.insert(a.name).second)
        throw finding(fmt::format("loaded a bad or duplicate actor name '{}'", a.name));
      if (registry.find(a.type) == nullptr || !a.spawn)
        throw finding(fmt::format("actor '{}' of unknown type '{}' or without a spawn function", a.name, a.type));
      any_producer = any_producer || a.producer;
    }
    if (!any_producer && topo.duration.count() == 0)
      throw finding("loaded a topology that never ends (no producer, no duration)");
    if (topo.bus.batch_size < 1 || topo.bus.batch_size > topo.bus.credit_window || topo.bus.capacity < 1)
      throw finding("loaded inconsistent bus settings");
    if (topo.workers < 1 || topo.workers > 256 || topo.stats_interval.count() <= 0 || topo.duration.count() < 0)
      throw finding("loaded out-of-range runtime settings");
    return topology_outcome::loaded;
  } catch (const config_error& e) {
    if (e.message().empty() || e.key_path().empty() || e.line() < 0 || e.column() < 0)
      throw finding(fmt::format("config_error without a message, a key path or a valid location: '{}'", e.what()));
    // what() is what the runtime prints: one printable line with all of the message.
    const std::string what = e.what();
    // (the message is cut, with a marker, past config_error::max_message_bytes)
    constexpr auto whole = std::string_view::npos;
    for (const char c : what)
      if (const auto u = static_cast<unsigned char>(c); u < 0x20 || u == 0x7f)
        throw finding(
          fmt::format("config_error::what() holds control byte \\x{:02x}: '{}'", u, printable(what, whole)));
    if (!what.ends_with(printable(e.message(), config_error::max_message_bytes)))
      throw finding(fmt::format("config_error::what() '{}' lacks (part of) the message '{}'", printable(what, whole),
                                printable(e.message(), whole)));
    return topology_outcome::config_error;
  }
}

// -- market data --------------------------------------------------------------------------------

namespace detail {

using namespace std::chrono;
namespace md = actors::md;

inline const char* format_name(md::format f) { return f == md::format::histdata_ticks ? "histdata" : "truefx"; }

inline bool same_row(const md::quote_row& a, const md::quote_row& b) {
  return a.time == b.time && a.bid == b.bid && a.ask == b.ask;
}

inline std::string describe(const md::quote_row& r) {
  return fmt::format("{} {} {}", md::format_utc(r.time), r.bid.to_string(), r.ask.to_string());
}

// A reason is one printable line (a NUL would cut what() short).
inline void check_reason(std::string_view reason) {
  if (reason.empty())
    throw finding("a bad row without a reason");
  for (const char c : reason)
    if (const auto u = static_cast<unsigned char>(c); u < 0x20 || u == 0x7f)
      throw finding(fmt::format("reason '{}' holds control byte \\x{:02x}", printable(reason), u));
}

// A row as its format writes it (the parser's canonical input), when its time is in the range
// the format can express.
inline std::optional<std::string> print_row(md::format f, const md::quote_row& r) {
  const auto t = f == md::format::histdata_ticks ? r.time - hours{5} : r.time;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  if (y < 1970 || y > 2261)
    return std::nullopt;
  const hh_mm_ss hms{t - day};
  const auto ns = hms.subseconds().count();
  const auto prices = fmt::format("{},{}", r.bid.to_string(), r.ask.to_string());
  if (f == md::format::histdata_ticks) {
    if (ns % 1'000'000 != 0)
      throw finding(fmt::format("histdata row with sub-millisecond time {}", describe(r)));
    return fmt::format("{:04}{:02}{:02} {:02}{:02}{:02}{:03},{},0", y, static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                       hms.seconds().count(), ns / 1'000'000, prices);
  }
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:09}+00:00,{}", y, static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                     hms.seconds().count(), ns, prices);
}

// The invariants of a parsed row.
inline void check_row(md::format f, const md::quote_row& r, std::string_view input) {
  if (r.bid.raw() <= 0 || r.ask.raw() <= 0 || r.bid > r.ask)
    throw finding(fmt::format("{}: row {} from '{}' is not 0 < bid <= ask", format_name(f), describe(r), input));
  // HistData: 1970-01-01 05:00Z .. 2262-01-01 05:00Z; TrueFX also moves by up to 23:59 either way.
  constexpr auto lo = sys_days{1969y / December / 31};
  constexpr auto hi = sys_days{2262y / January / 2};
  if (r.time < lo || r.time >= hi)
    throw finding(fmt::format("{}: row from '{}' has a time out of range", format_name(f), input));
  if (!md::format_utc(r.time).ends_with('Z'))
    throw finding("format_utc does not end in Z");
  for (const auto p : {r.bid, r.ask})
    if (auto back = price::parse(p.to_string()); !back || *back != p)
      throw finding(fmt::format("price {} does not parse back to itself", p.to_string()));
  const auto text = print_row(f, r);
  if (!text)
    return;
  const auto again = md::parse_line(f, *text);
  if (const auto* err = std::get_if<std::string>(&again))
    throw finding(
      fmt::format("{}: row from '{}' printed as '{}' does not parse: {}", format_name(f), input, *text, *err));
  if (!same_row(std::get<md::quote_row>(again), r))
    throw finding(fmt::format("{}: row from '{}' printed as '{}' parses to another row", format_name(f), input, *text));
}

inline void check_parse(md::format f, std::string_view line) {
  const auto r = md::parse_line(f, line);
  if (const auto* row = std::get_if<md::quote_row>(&r))
    check_row(f, *row, line.substr(0, 200));
  else
    check_reason(std::get<std::string>(r));
}

// One outcome of reading: a row, or a bad row (line, reason).
struct read_item {
  std::optional<md::quote_row> row;
  std::size_t line = 0;
  std::string reason;
};

// The documented reader, without any buffering: the whole content in memory.
inline std::vector<read_item> reference_read(std::string_view content, md::format f) {
  std::vector<read_item> out;
  std::optional<timestamp> last;
  std::size_t line = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const auto nl = content.find('\n', pos);
    const bool terminated = nl != std::string_view::npos;
    auto text = content.substr(pos, (terminated ? nl : content.size()) - pos);
    pos = terminated ? nl + 1 : content.size();
    ++line;
    auto bad = [&](std::string reason) { out.push_back({std::nullopt, line, std::move(reason)}); };
    if (text.size() > md::max_line_length) {
      bad(fmt::format("line longer than {} bytes", md::max_line_length));
      continue;
    }
    if (line == 1 && text.starts_with("\xEF\xBB\xBF"))
      text.remove_prefix(3);
    if (text.ends_with('\r'))
      text.remove_suffix(1);
    if (!terminated) {
      bad("last line has no line break: the file looks truncated");
      continue;
    }
    if (text.empty())
      continue;
    if (f == md::format::truefx_ticks && line == 1) {
      if (text != "timestamp,bid,ask")
        bad(fmt::format("expected the header 'timestamp,bid,ask', found '{}'", printable(text.substr(0, 64))));
      continue;
    }
    auto r = md::parse_line(f, text);
    if (auto* err = std::get_if<std::string>(&r)) {
      bad(std::move(*err));
      continue;
    }
    const auto& row = std::get<md::quote_row>(r);
    if (last && row.time < *last) {
      bad(fmt::format("time goes backwards: {} is before the previous row's {}", md::format_utc(row.time),
                      md::format_utc(*last)));
      continue;
    }
    last = row.time;
    out.push_back({row, line, {}});
  }
  return out;
}

// What quote_reader yields for the file, going on after each bad row; stops (a finding) when it
// yields more items than the reference, which would otherwise be an endless loop.
inline std::vector<read_item> reader_read(const std::filesystem::path& file, md::format f, std::size_t bound) {
  std::vector<read_item> out;
  md::quote_reader reader{file, f};
  for (;;) {
    if (out.size() > bound)
      throw finding(fmt::format("{}: quote_reader yields more than the {} items expected", format_name(f), bound));
    try {
      auto row = reader.next();
      if (!row)
        return out;
      check_row(f, *row, "(reader)");
      out.push_back({row, reader.line(), {}});
    } catch (const md::bad_row_error& e) {
      if (e.line() != reader.line() || e.what() != fmt::format("{}:{}: {}", file.string(), e.line(), e.reason()))
        throw finding(fmt::format("bad_row_error '{}' is not 'file:line: reason'", printable(e.what())));
      check_reason(e.reason());
      out.push_back({std::nullopt, e.line(), e.reason()});
    }
  }
}

inline void compare_reads(const sandbox& box, std::string_view content, md::format f, const char* what) {
  const auto file = box.write("data.csv", content);
  const auto expected = reference_read(content, f);
  const auto got = reader_read(file, f, expected.size());
  for (std::size_t i = 0; i < std::max(expected.size(), got.size()); ++i) {
    auto show = [](const std::vector<read_item>& v, std::size_t j) {
      if (j >= v.size())
        return std::string{"(end)"};
      if (v[j].row)
        return fmt::format("line {}: row {}", v[j].line, describe(*v[j].row));
      return fmt::format("line {}: bad row: {}", v[j].line, v[j].reason);
    };
    const bool same = i < expected.size() && i < got.size() && expected[i].line == got[i].line
                      && expected[i].reason == got[i].reason && expected[i].row.has_value() == got[i].row.has_value()
                      && (!got[i].row || same_row(*expected[i].row, *got[i].row));
    if (!same)
      throw finding(fmt::format("{} reader ({} input of {} bytes), item {}: expected {}, got {}", format_name(f), what,
                                content.size(), i, show(expected, i), show(got, i)));
  }
}

// Exactly n bytes (n >= 64) that the input then follows: for TrueFX its header, then one line
// too long to read (a bad row both readers skip without parsing it: cheap, and it leaves no
// previous time behind).
inline std::string padding(md::format f, std::size_t n) {
  std::string out = f == md::format::truefx_ticks ? "timestamp,bid,ask\n" : "";
  out += std::string(n - out.size() - 1, 'x');
  out += '\n';
  return out;
}

} // namespace detail

/// Parses data as one line of each format, then reads it as a file of each format, alone and
/// (one input in four) after a padding that puts the reader's 64 KiB refill boundary inside it.
inline void run_market_data(const sandbox& box, std::string_view data) {
  using actors::md::format;
  for (const auto f : {format::histdata_ticks, format::truefx_ticks}) {
    detail::check_parse(f, data);
    detail::compare_reads(box, data, f, "plain");
    // For one input in four (a 64 KiB file is not cheap): the first refill boundary at k bytes
    // into data, k derived from its bytes (at most 8 KiB in).
    std::uint32_t h = 2166136261U;
    for (const char c : data.substr(0, 256))
      h = (h ^ static_cast<std::uint8_t>(c)) * 16777619U;
    if (h % 4 != 0)
      continue;
    h /= 4;
    const auto k = static_cast<std::size_t>(h % (std::min<std::size_t>(data.size(), 8192) + 1));
    constexpr std::size_t block = std::size_t{64} * 1024;
    detail::compare_reads(box, detail::padding(f, block - k) + std::string{data}, f, "padded");
  }
}

} // namespace libra::fuzz
