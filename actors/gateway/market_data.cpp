#include "market_data.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <stdexcept>

namespace libra::actors::md {

namespace {

using namespace std::chrono;

bool digits(std::string_view s, int& out) {
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::optional<timestamp> civil(int y, int mo, int d, int h, int mi, int s, std::int64_t nanos) {
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60)
    return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + nanoseconds{nanos};
}

// Splits on ',' into at most n fields; returns how many.
std::size_t split(std::string_view line, std::string_view* out, std::size_t n) {
  std::size_t k = 0;
  while (k < n) {
    const auto pos = line.find(',');
    out[k++] = line.substr(0, pos);
    if (pos == std::string_view::npos)
      break;
    line.remove_prefix(pos + 1);
  }
  return k;
}

parse_result prices(timestamp t, std::string_view bid_text, std::string_view ask_text) {
  const auto bid = price::parse(bid_text);
  const auto ask = price::parse(ask_text);
  if (!bid)
    return fmt::format("bid '{}' is not a decimal number", bid_text);
  if (!ask)
    return fmt::format("ask '{}' is not a decimal number", ask_text);
  if (bid->raw() <= 0 || ask->raw() <= 0)
    return fmt::format("non-positive price (bid {}, ask {})", bid_text, ask_text);
  if (*bid > *ask)
    return fmt::format("crossed quote: bid {} above ask {}", bid_text, ask_text);
  return quote_row{t, *bid, *ask};
}

} // namespace

parse_result parse_histdata(std::string_view line) {
  std::string_view f[4];
  if (split(line, f, 4) != 4)
    return std::string{"expected 4 columns: datetime,bid,ask,volume"};
  const auto dt = f[0];
  // YYYYMMDD HHMMSSfff
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (dt.size() != 18 || dt[8] != ' ' || !digits(dt.substr(0, 4), y) || !digits(dt.substr(4, 2), mo)
      || !digits(dt.substr(6, 2), d) || !digits(dt.substr(9, 2), h) || !digits(dt.substr(11, 2), mi)
      || !digits(dt.substr(13, 2), s) || !digits(dt.substr(15, 3), ms))
    return fmt::format("datetime '{}' is not 'YYYYMMDD HHMMSSfff'", dt);
  auto t = civil(y, mo, d, h, mi, s, std::int64_t{ms} * 1'000'000);
  if (!t)
    return fmt::format("datetime '{}' is not a valid date and time", dt);
  // HistData: EST without daylight saving, a fixed UTC-05:00.
  return prices(*t + hours{5}, f[1], f[2]);
}

parse_result parse_truefx(std::string_view line) {
  std::string_view f[3];
  if (split(line, f, 3) != 3)
    return std::string{"expected 3 columns: timestamp,bid,ask"};
  auto ts = f[0];
  // YYYY-MM-DD HH:MM:SS[.ffffff]+00:00
  if (ts.size() < 25 || ts.substr(ts.size() - 6) != "+00:00")
    return fmt::format("timestamp '{}' is not 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00'", ts);
  ts.remove_suffix(6);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (ts[4] != '-' || ts[7] != '-' || ts[10] != ' ' || ts[13] != ':' || ts[16] != ':' || !digits(ts.substr(0, 4), y)
      || !digits(ts.substr(5, 2), mo) || !digits(ts.substr(8, 2), d) || !digits(ts.substr(11, 2), h)
      || !digits(ts.substr(14, 2), mi) || !digits(ts.substr(17, 2), s))
    return fmt::format("timestamp '{}+00:00' is not 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00'", ts);
  std::int64_t nanos = 0;
  if (ts.size() > 19) {
    auto frac = ts.substr(20);
    int v = 0;
    if (ts[19] != '.' || frac.size() > 9 || !digits(frac, v))
      return fmt::format("timestamp fraction '{}' is not 1 to 9 digits", ts.substr(19));
    nanos = v;
    for (auto i = frac.size(); i < 9; ++i)
      nanos *= 10;
  }
  auto t = civil(y, mo, d, h, mi, s, nanos);
  if (!t)
    return fmt::format("timestamp '{}' is not a valid date and time", f[0]);
  return prices(*t, f[1], f[2]);
}

quote_reader::quote_reader(std::string path, format fmt) : path_{std::move(path)}, fmt_{fmt}, in_{path_} {
  if (!in_)
    throw std::runtime_error(fmt::format("{}: cannot open", path_));
  buf_.resize(max_line_length + 1);
  if (fmt_ == format::truefx_ticks) { // header line
    in_.getline(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    ++line_;
    if (std::string_view{buf_.data()}.substr(0, 9) != "timestamp")
      throw std::runtime_error(fmt::format("{}:1: expected the header 'timestamp,bid,ask'", path_));
  }
}

std::optional<quote_row> quote_reader::next() {
  for (;;) {
    if (!in_.getline(buf_.data(), static_cast<std::streamsize>(buf_.size()))) {
      if (in_.eof() && in_.gcount() == 0)
        return std::nullopt;
      ++line_;
      if (!in_.eof()) { // fail without eof: the line did not fit
        in_.clear();
        in_.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
        throw std::runtime_error(fmt::format("{}:{}: line longer than {} bytes", path_, line_, max_line_length));
      }
      // last line without a newline: parse it (a truncated row fails its column checks)
    } else {
      ++line_;
    }
    std::string_view line{buf_.data(), static_cast<std::size_t>(in_.gcount()) - (in_.eof() ? 0 : 1)};
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      continue;
    auto r = fmt_ == format::histdata_ticks ? parse_histdata(line) : parse_truefx(line);
    if (auto* err = std::get_if<std::string>(&r))
      throw std::runtime_error(fmt::format("{}:{}: {}", path_, line_, *err));
    auto row = std::get<quote_row>(r);
    if (last_ && row.time < *last_)
      throw std::runtime_error(fmt::format("{}:{}: timestamp goes backwards", path_, line_));
    last_ = row.time;
    return row;
  }
}

} // namespace libra::actors::md
