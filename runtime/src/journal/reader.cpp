#include "reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace libra::journal {

namespace jf = journal_format;

std::string problem::to_string() const { return fmt::format("{}:{}: {}", file.string(), offset, what); }

std::vector<std::filesystem::path> list_segments(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator{dir}) {
    const auto name = entry.path().filename().string();
    const std::string_view ext{jf::segment_extension};
    if (name.size() == 8 + ext.size() && name.ends_with(ext)
        && std::all_of(name.begin(), name.begin() + 8, [](char c) { return c >= '0' && c <= '9'; }))
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

segment_reader::segment_reader(std::filesystem::path path) : path_{std::move(path)} {
  problem_.file = path_;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK); // NOLINT: POSIX vararg
  if (fd < 0) {
    problem_.what = fmt::format("cannot open: {}", std::strerror(errno));
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem_.what = "not a regular file";
    ::close(fd);
    return;
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { // NOLINT: the C macro
      problem_.what = fmt::format("cannot map: {}", std::strerror(errno));
      ::close(fd);
      return;
    }
    data_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);
  if (size_ == 0) {
    problem_.what = "empty file: no segment header";
    return;
  }
  if (auto err = decode_header({data_, static_cast<std::size_t>(size_)}, header_)) {
    problem_.what = *err;
    return;
  }
  opened_ = true;
  pos_ = valid_end_ = jf::segment_header_size;
}

segment_reader::~segment_reader() {
  if (data_ != nullptr)
    ::munmap(const_cast<std::byte*>(data_), size_); // NOLINT: munmap takes void*
}

segment_reader::status segment_reader::fail(status s, std::uint64_t at, std::string what) {
  problem_.offset = at;
  problem_.what = std::move(what);
  return s;
}

bool segment_reader::whole_record_at(std::uint64_t at) const noexcept {
  if (size_ - at < jf::record_header_size)
    return false;
  const auto len = load_u32(data_ + at);
  if (len < jf::min_body_size || len > jf::max_body_size || size_ - at - jf::record_header_size < len)
    return false;
  const std::span<const std::byte> body{data_ + at + jf::record_header_size, len};
  return body_checksum(body) == load_u64(data_ + at + 4);
}

bool segment_reader::valid_record_after(std::uint64_t at) const noexcept {
  for (auto next = at + 1; next < size_; ++next)
    if (whole_record_at(next))
      return true;
  return false;
}

bool segment_reader::zeros_from(std::uint64_t at) const noexcept {
  return std::all_of(data_ + at, data_ + size_, [](std::byte b) { return b == std::byte{0}; });
}

segment_reader::status segment_reader::next(record& out) {
  if (!opened_)
    return fail(status::corrupt, 0, problem_.what);
  if (pos_ == size_)
    return status::end;
  const auto at = pos_;
  record_offset_ = at;
  const auto left = size_ - at;
  if (left < jf::record_header_size)
    return fail(status::torn_tail, at, fmt::format("torn tail: {} bytes, less than a record header", left));
  const auto len = load_u32(data_ + at);
  if (len < jf::min_body_size || len > jf::max_body_size) {
    // A run of zeros to the end is a torn tail too (a file extended but not written).
    const bool zeros = zeros_from(at);
    return fail(zeros ? status::torn_tail : status::corrupt, at,
                fmt::format("{}record length {} is out of range [{}, {}]", zeros ? "torn tail: " : "", len,
                            jf::min_body_size, jf::max_body_size));
  }
  if (left - jf::record_header_size < len) {
    // Past the end: a torn tail, unless a whole record follows (then this length is damaged).
    const bool damaged = valid_record_after(at);
    return fail(damaged ? status::corrupt : status::torn_tail, at,
                fmt::format("{}record of {} bytes, {} in the file",
                            damaged ? "bad record length: " : "torn tail: ", len + jf::record_header_size, left));
  }
  const std::span<const std::byte> body{data_ + at + jf::record_header_size, len};
  const auto end = at + jf::record_header_size + len;
  if (body_checksum(body) != load_u64(data_ + at + 4)) {
    // The last record, or one followed by zeros only (a file whose size a crash made durable
    // before its data): a record cut short.
    const bool torn = zeros_from(end);
    return fail(torn ? status::torn_tail : status::corrupt, at,
                fmt::format("{}checksum mismatch in a record of {} bytes", torn ? "torn tail: " : "",
                            len + jf::record_header_size));
  }
  if (auto err = decode_body(body, out))
    return fail(status::corrupt, at, fmt::format("bad record (checksum valid): {}", *err));
  pos_ = valid_end_ = end;
  return status::record;
}

bool segment_reader::skip(std::uint64_t& skipped) {
  const auto from = pos_;
  for (auto at = pos_ + 1; at < size_; ++at)
    if (whole_record_at(at)) {
      pos_ = at;
      skipped = at - from;
      return true;
    }
  pos_ = size_;
  skipped = size_ - from;
  return false;
}

} // namespace libra::journal
