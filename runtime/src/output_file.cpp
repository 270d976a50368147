#include <libra/output_file.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace libra {

std::string_view file_type_name(unsigned mode) noexcept {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return S_ISREG(mode) ? "a regular file" : "not a regular file";
}

namespace {

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
  throw output_error{fmt::format("cannot write '{}': {}", path.string(), why)};
}

void refuse_special(const std::filesystem::path& path, mode_t mode) {
  refuse(path, fmt::format("it is {}, not a regular file (outputs must be regular files: writing to a FIFO or a "
                           "device can block the run and its shutdown)",
                           file_type_name(mode)));
}

} // namespace

output_file output_file::open(const std::filesystem::path& path) {
  // Looked at before opening: opening a FIFO for writing waits for a reader.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    refuse_special(path, st.st_mode);
  // O_NONBLOCK: should the path become a FIFO after the stat, open fails (ENXIO) instead of waiting.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
  if (fd < 0)
    refuse(path, std::strerror(errno));
  output_file out{path, fd}; // closes fd on every throw below
  if (::fstat(fd, &st) != 0)
    refuse(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    refuse_special(path, st.st_mode);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      refuse(path, "the file is locked: another libra-runtime run (or another output of this run) writes it");
    refuse(path, fmt::format("cannot lock it: {}", std::strerror(errno)));
  }
  return out;
}

output_file::output_file(output_file&& other) noexcept
  : path_{std::move(other.path_)}, fd_{std::exchange(other.fd_, -1)}, error_{std::move(other.error_)} {}

output_file& output_file::operator=(output_file&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    error_ = std::move(other.error_);
  }
  return *this;
}

output_file::~output_file() {
  if (fd_ >= 0)
    ::close(fd_);
}

void output_file::fail() noexcept { error_ = std::strerror(errno); }

bool output_file::truncate() noexcept {
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
    fail();
    return false;
  }
  return true;
}

bool output_file::write(std::string_view text) noexcept {
  while (!text.empty()) {
    const auto n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail();
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

} // namespace libra
