// Rate-limited logging for actors: a warning that repeats per event (a publish refused while the
// bus is full or stopping) is logged for its 1st..10th occurrence, then at each power of two, with
// its count, so a shutdown under back-pressure logs a few dozen lines instead of thousands.
// Not thread-safe: keep one log_limiter per actor state (an actor handles one message at a time).
#pragma once

#include <cstdint>

namespace libra {

/// True for the occurrences worth a log line: 1..10, then powers of two (the bus's own rule for
/// handler errors).
[[nodiscard]] constexpr bool worth_logging(std::uint64_t occurrence) noexcept {
  return occurrence != 0 && (occurrence <= 10 || (occurrence & (occurrence - 1)) == 0);
}

/// Counts the occurrences of one repeated warning and says which to log.
class log_limiter {
public:
  /// Counts one occurrence; returns its number when it is worth a log line, 0 when it is not.
  [[nodiscard]] constexpr std::uint64_t count() noexcept {
    ++n_;
    return worth_logging(n_) ? n_ : 0;
  }
  /// Occurrences counted so far (logged or not).
  [[nodiscard]] constexpr std::uint64_t total() const noexcept { return n_; }

private:
  std::uint64_t n_ = 0;
};

} // namespace libra
