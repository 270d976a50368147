// The one exception type of configuration: what is wrong, and where (file:line:column and the
// key path, e.g. "actors[2].params.fast").
#pragma once

#include <libra/export.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace libra {

/// A configuration error with its location. what() is "file:line:column: key.path: message",
/// one printable line (libra::printable).
class LIBRA_API config_error : public std::runtime_error {
public:
  /// what() shows at most this much of the key path and of the message, cut with a marker: a
  /// backstop for input that was not cut where it was quoted.
  static constexpr std::size_t max_key_path_bytes = 256;
  static constexpr std::size_t max_message_bytes = 1024;

  config_error(std::string file, int line, int column, std::string key_path, std::string message);

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] int line() const noexcept { return line_; }     ///< 1-based; 0 when unknown
  [[nodiscard]] int column() const noexcept { return column_; } ///< 1-based; 0 when unknown
  [[nodiscard]] const std::string& key_path() const noexcept { return key_path_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
  std::string file_;
  int line_;
  int column_;
  std::string key_path_;
  std::string message_;
};

} // namespace libra
