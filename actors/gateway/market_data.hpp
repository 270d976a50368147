// Parsers for the market-data files gateway.replay understands: pure line parsers and a bounded
// file reader, testable without actors. Memory stays bounded whatever the input (a line longer
// than max_line_length is a bad row, not an allocation). Not thread-safe: one reader per actor.
#pragma once

#include <libra/event.hpp>
#include <libra/json.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace libra::actors::md {

/// The file formats gateway.replay reads (the `format` param).
enum class format {
  histdata_ticks, ///< HistData generic ASCII ticks: `YYYYMMDD HHMMSSfff,bid,ask,volume`, no header, UTC-05:00
  truefx_ticks,   ///< TrueFX: header `timestamp,bid,ask`, rows `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00,bid,ask`
};

/// One quote row: UTC time and top-of-book prices (bid <= ask, both positive).
struct quote_row {
  timestamp time;
  price bid;
  price ask;
};

/// A row, or what is wrong with it (one line of text, without the location).
using parse_result = std::variant<quote_row, std::string>;

/// HistData generic ASCII ticks; the time is EST without daylight saving (fixed UTC-05:00) and
/// is returned in UTC. The volume column must be a non-negative number (HistData writes 0).
parse_result parse_histdata(std::string_view line);
/// TrueFX ticks, UTC (`+00:00`); the fraction of a second is optional and has 1 to 9 digits.
parse_result parse_truefx(std::string_view line);
/// The parser for fmt.
parse_result parse_line(format fmt, std::string_view line);

using libra::format_utc; // libra/json.hpp: rows' times in messages

/// The longest line a reader accepts, in bytes (without the line break).
inline constexpr std::size_t max_line_length = 4096;

/// A row the reader could not use; what() is "file:line: reason".
class bad_row_error : public std::runtime_error {
public:
  bad_row_error(const std::string& file, std::size_t line, const std::string& reason);
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

private:
  std::size_t line_;
  std::string reason_;
};

/// Reads the rows of one file in order, with the checks that span rows: the TrueFX header, time
/// never going backwards, and a last line that ends with a line break (one that does not is a
/// truncated file). Blank lines are ignored; a trailing CR (CRLF files) and a UTF-8 BOM are
/// accepted.
class quote_reader {
public:
  /// Opens the file; throws std::runtime_error("file: cannot open: ...") when it cannot.
  quote_reader(const std::filesystem::path& path, format fmt);

  /// The next row; nullopt at the end of the file. Throws bad_row_error for a row it cannot use;
  /// the next call goes on with the following line (a bad row does not move the time check).
  std::optional<quote_row> next();

  /// Number of the last line read (1-based; 0 before the first).
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
  // One line (without its break), whether a break ended it, and whether it was too long (then
  // the text is cut or empty); nullopt at the end of the file.
  struct raw_line {
    std::string_view text;
    bool terminated;
    bool too_long;
  };
  std::optional<raw_line> read_line();
  [[noreturn]] void fail(const std::string& reason) const;

  std::string path_;
  format fmt_;
  std::ifstream in_;
  std::vector<char> buf_; // [begin_, end_) holds unread bytes
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool discarding_ = false; // inside a too-long line: drop bytes up to its break
  std::size_t line_ = 0;
  std::optional<timestamp> last_;
};

} // namespace libra::actors::md
