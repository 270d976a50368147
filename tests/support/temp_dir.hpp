// A fresh directory under the system's temp directory, removed with everything in it at scope exit.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace libra::testing {

/// A file's whole content, bytes as they are ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

class temp_dir {
public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "libra-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) // unique and created atomically
      throw std::system_error{errno, std::generic_category(), "mkdtemp " + tmpl};
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Writes text exactly (no line break added) to name in this directory; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    auto p = path_ / name;
    std::ofstream{p, std::ios::binary} << text;
    return p;
  }

private:
  std::filesystem::path path_;
};

} // namespace libra::testing
