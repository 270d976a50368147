#include "market_data.hpp"

#include <libra/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>

namespace libra::actors::md {

namespace {

using namespace std::chrono;

constexpr std::size_t read_block = std::size_t{64} * 1024; // > max_line_length: a refill always has room
static_assert(read_block > max_line_length + 1);

// All of s is decimal digits (at least one); the value in out.
bool digits(std::string_view s, int& out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// A UTC time from civil fields; nullopt when they name no valid instant within the range of
// timestamp (1970 to 2261: nanoseconds since the epoch in 64 bits).
std::optional<timestamp> civil(int y, int mo, int d, int h, int mi, int s, std::int64_t nanos) {
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (y < 1970 || y > 2261 || !ymd.ok() || h > 23 || mi > 59 || s > 59)
    return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + nanoseconds{nanos};
}

// The comma-separated fields of line; false when there are not exactly N.
template <std::size_t N>
bool split(std::string_view line, std::array<std::string_view, N>& out, std::size_t& found) {
  found = static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
  if (found != N)
    return false;
  for (auto& field : out) {
    const auto pos = line.find(',');
    field = line.substr(0, pos);
    line.remove_prefix(pos == std::string_view::npos ? line.size() : pos + 1);
  }
  return true;
}

// A positive decimal price, or what is wrong with it.
std::variant<price, std::string> positive_price(std::string_view name, std::string_view text) {
  if (text.empty())
    return fmt::format("{} is empty", name);
  const auto p = price::parse(text);
  if (!p)
    return fmt::format("{} '{}' is not a decimal number", name, printable(text));
  if (p->raw() <= 0)
    return fmt::format("{} {} is not positive", name, text);
  return *p;
}

parse_result quote(timestamp t, std::string_view bid_text, std::string_view ask_text) {
  auto bid = positive_price("bid", bid_text);
  if (auto* err = std::get_if<std::string>(&bid))
    return std::move(*err);
  auto ask = positive_price("ask", ask_text);
  if (auto* err = std::get_if<std::string>(&ask))
    return std::move(*err);
  if (std::get<price>(bid) > std::get<price>(ask))
    return fmt::format("crossed quote: bid {} is above ask {}", bid_text, ask_text);
  return quote_row{t, std::get<price>(bid), std::get<price>(ask)};
}

} // namespace

parse_result parse_histdata(std::string_view line) {
  std::array<std::string_view, 4> f;
  std::size_t found = 0;
  if (!split(line, f, found))
    return fmt::format("expected 4 columns (datetime,bid,ask,volume), found {}", found);
  const auto dt = f[0];
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (dt.size() != 18 || dt[8] != ' ' || !digits(dt.substr(0, 4), y) || !digits(dt.substr(4, 2), mo)
      || !digits(dt.substr(6, 2), d) || !digits(dt.substr(9, 2), h) || !digits(dt.substr(11, 2), mi)
      || !digits(dt.substr(13, 2), s) || !digits(dt.substr(15, 3), ms))
    return fmt::format("datetime '{}' is not 'YYYYMMDD HHMMSSfff'", printable(dt));
  const auto t = civil(y, mo, d, h, mi, s, std::int64_t{ms} * 1'000'000);
  if (!t)
    return fmt::format("datetime '{}' is not a valid date and time", printable(dt));
  const auto volume = quantity::parse(f[3]);
  if (!volume || volume->raw() < 0)
    return fmt::format("volume '{}' is not a non-negative number", printable(f[3]));
  // HistData: EST without daylight saving, a fixed UTC-05:00.
  return quote(*t + hours{5}, f[1], f[2]);
}

parse_result parse_truefx(std::string_view line) {
  std::array<std::string_view, 3> f;
  std::size_t found = 0;
  if (!split(line, f, found))
    return fmt::format("expected 3 columns (timestamp,bid,ask), found {}", found);
  const auto bad_ts = [&] {
    return fmt::format("timestamp '{}' is not 'YYYY-MM-DD HH:MM:SS[.fraction]+HH:MM'", printable(f[0]));
  };
  auto ts = f[0];
  // The UTC offset: +00:00 in TrueFX files; others are converted.
  int off_h = 0, off_m = 0;
  if (ts.size() < 25)
    return bad_ts();
  const auto off = ts.substr(ts.size() - 6);
  if ((off[0] != '+' && off[0] != '-') || off[3] != ':' || !digits(off.substr(1, 2), off_h)
      || !digits(off.substr(4, 2), off_m) || off_h > 23 || off_m > 59)
    return bad_ts();
  ts.remove_suffix(6);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (ts[4] != '-' || ts[7] != '-' || ts[10] != ' ' || ts[13] != ':' || ts[16] != ':' || !digits(ts.substr(0, 4), y)
      || !digits(ts.substr(5, 2), mo) || !digits(ts.substr(8, 2), d) || !digits(ts.substr(11, 2), h)
      || !digits(ts.substr(14, 2), mi) || !digits(ts.substr(17, 2), s))
    return bad_ts();
  std::int64_t nanos = 0;
  if (ts.size() > 19) {
    const auto frac = ts.substr(20);
    int v = 0;
    if (ts[19] != '.' || frac.size() > 9 || !digits(frac, v))
      return fmt::format("timestamp '{}' has a fraction of a second that is not 1 to 9 digits", printable(f[0]));
    nanos = v;
    for (auto i = frac.size(); i < 9; ++i)
      nanos *= 10;
  }
  auto t = civil(y, mo, d, h, mi, s, nanos);
  if (!t)
    return fmt::format("timestamp '{}' is not a valid date and time", printable(f[0]));
  const auto offset = hours{off_h} + minutes{off_m};
  return quote(off[0] == '+' ? *t - offset : *t + offset, f[1], f[2]);
}

parse_result parse_line(format fmt, std::string_view line) {
  return fmt == format::histdata_ticks ? parse_histdata(line) : parse_truefx(line);
}

bad_row_error::bad_row_error(const std::string& file, std::size_t line, const std::string& reason)
  : std::runtime_error{fmt::format("{}:{}: {}", file, line, reason)}, line_{line}, reason_{reason} {}

quote_reader::quote_reader(const std::filesystem::path& path, format fmt)
  : path_{path.string()}, fmt_{fmt}, in_{path, std::ios::binary}, buf_(read_block) {
  if (!in_)
    throw std::runtime_error(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
}

void quote_reader::fail(const std::string& reason) const { throw bad_row_error{path_, line_, reason}; }

std::optional<quote_reader::raw_line> quote_reader::read_line() {
  for (;;) {
    const char* first = buf_.data() + begin_;
    const char* last = buf_.data() + end_;
    if (const char* nl = std::find(first, last, '\n'); nl != last) {
      begin_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
      if (discarding_) { // the end of a line already reported as too long
        discarding_ = false;
        continue;
      }
      const auto n = static_cast<std::size_t>(nl - first);
      return raw_line{{first, n}, true, n > max_line_length};
    }
    if (discarding_) {
      begin_ = end_ = 0;
    } else if (end_ - begin_ > max_line_length) { // no break in sight: drop up to it
      begin_ = end_ = 0;
      discarding_ = true;
      return raw_line{{}, true, true};
    }
    if (eof_) {
      if (begin_ == end_)
        return std::nullopt;
      begin_ = end_;
      const auto n = static_cast<std::size_t>(last - first);
      return raw_line{{first, n}, false, n > max_line_length};
    }
    // Keep the partial line, refill behind it.
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    in_.read(buf_.data() + end_, static_cast<std::streamsize>(buf_.size() - end_));
    const auto got = in_.gcount();
    if (in_.bad())
      throw std::runtime_error(fmt::format("{}:{}: read error", path_, line_ + 1));
    if (got == 0)
      eof_ = true;
    end_ += static_cast<std::size_t>(got);
  }
}

std::optional<quote_row> quote_reader::next() {
  for (;;) {
    const auto raw = read_line();
    if (!raw)
      return std::nullopt;
    ++line_;
    if (raw->too_long)
      fail(fmt::format("line longer than {} bytes", max_line_length));
    auto text = raw->text;
    if (line_ == 1 && text.starts_with("\xEF\xBB\xBF"))
      text.remove_prefix(3); // UTF-8 byte order mark
    if (text.ends_with('\r'))
      text.remove_suffix(1);
    if (!raw->terminated)
      fail("last line has no line break: the file looks truncated");
    if (text.empty())
      continue;
    if (fmt_ == format::truefx_ticks && line_ == 1) {
      if (text != "timestamp,bid,ask")
        fail(fmt::format("expected the header 'timestamp,bid,ask', found '{}'", printable(text.substr(0, 64))));
      continue;
    }
    auto r = parse_line(fmt_, text);
    if (auto* err = std::get_if<std::string>(&r))
      fail(*err);
    const auto& row = std::get<quote_row>(r);
    if (last_ && row.time < *last_)
      fail(fmt::format("time goes backwards: {} is before the previous row's {}", format_utc(row.time),
                       format_utc(*last_)));
    last_ = row.time;
    return row;
  }
}

} // namespace libra::actors::md
