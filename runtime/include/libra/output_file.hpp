// An output file (a recorder's events, the runtime's statistics) that one writer holds alone.
// Opening never blocks and refuses, with a message saying why: a path that is not a regular file
// (a FIFO nobody reads would block the run and its shutdown forever), and a file another process
// or another output of this run holds (an exclusive flock, kept while the object lives: two runs
// would interleave broken lines). Writes go straight to write(2): what returned true is in the
// file, and a failure shows at the write that failed. One owner at a time.
#pragma once

#include <libra/export.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace libra {

/// What kind of file a stat() mode names, for messages: "a directory", "a FIFO (named pipe)",
/// "a character device", ... (inputs and outputs must be regular files).
[[nodiscard]] LIBRA_API std::string_view file_type_name(unsigned mode) noexcept;

/// An output file that cannot be used; what() is "cannot write 'path': reason".
class LIBRA_API output_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A regular file opened for writing under an exclusive lock.
class LIBRA_API output_file {
public:
  /// Opens path (created when missing, its content kept until truncate()) and locks it; throws
  /// output_error when it cannot be opened, is not a regular file, or is locked.
  static output_file open(const std::filesystem::path& path);

  output_file(output_file&& other) noexcept;
  output_file& operator=(output_file&& other) noexcept;
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;
  ~output_file(); ///< closes the file, which releases the lock

  /// Empties the file. Call it when the run starts: a run refused before that leaves the file as
  /// it was. False on an error (error() says which).
  [[nodiscard]] bool truncate() noexcept;
  /// Appends all of text; false on an error (error() says which).
  [[nodiscard]] bool write(std::string_view text) noexcept;
  /// The last error, as strerror text; empty when none.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
  output_file(std::filesystem::path path, int fd) : path_{std::move(path)}, fd_{fd} {}
  void fail() noexcept;

  std::filesystem::path path_;
  int fd_ = -1;
  std::string error_;
};

} // namespace libra
