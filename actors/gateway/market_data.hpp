// Parsers for the market-data files gateway.replay understands. Pure functions and a bounded
// line reader: testable without actors, memory bounded whatever the input (a line longer than
// max_line_length is an error, not an allocation).
#pragma once

#include <libra/event.hpp>

#include <cstddef>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace libra::actors::md {

enum class format { histdata_ticks, truefx_ticks };

/// One quote row.
struct quote_row {
  timestamp time;
  price bid;
  price ask;
};

/// A row, or what is wrong with it.
using parse_result = std::variant<quote_row, std::string>;

/// HistData generic ASCII ticks: `YYYYMMDD HHMMSSfff,bid,ask,volume`, EST without DST (UTC-5).
parse_result parse_histdata(std::string_view line);
/// TrueFX: `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00,bid,ask` (UTC; fraction optional).
parse_result parse_truefx(std::string_view line);

inline constexpr std::size_t max_line_length = 4096;

/// Reads rows of one file with checks across rows (time never goes backwards). Errors carry
/// "file:line: what".
class quote_reader {
public:
  quote_reader(std::string path, format fmt);
  /// The next row; nullopt at the end. Throws std::runtime_error("file:line: ...") on a bad row.
  std::optional<quote_row> next();
  /// Skips the row that failed (after next() threw) and reads on.
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
  std::string path_;
  format fmt_;
  std::ifstream in_;
  std::size_t line_ = 0;
  std::optional<timestamp> last_;
  std::string buf_;
};

} // namespace libra::actors::md
