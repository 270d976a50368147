// What publish() and publish_many() did with the events they were given: admitted, or refused
// and why. Plain values, returned by the bus's non-blocking publish calls.
#pragma once

#include <libra/export.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace libra {

/// The outcome of offering one event to the bus.
enum class publish_status : std::uint8_t {
  accepted, ///< admitted: it has a sequence number and will be dispatched (or dropped by stop())
  full,     ///< refused: its priority's share of the capacity is pending (back-pressure; retry)
  closed,   ///< refused: the bus is stopping or stopped (final)
};

/// "accepted", "full", "closed".
[[nodiscard]] LIBRA_API std::string_view to_string(publish_status s) noexcept;

/// What publish() did. Tests like a bool (true: accepted); status() says why it was refused.
class [[nodiscard]] publish_result {
public:
  constexpr publish_result(publish_status s) noexcept : status_{s} {} // NOLINT(google-explicit-constructor)
  constexpr explicit operator bool() const noexcept { return status_ == publish_status::accepted; }
  [[nodiscard]] constexpr publish_status status() const noexcept { return status_; }
  friend constexpr bool operator==(publish_result a, publish_result b) noexcept = default;

private:
  publish_status status_;
};

/// What publish_many() did: it admits a prefix of the events, in order. Converts to that count.
struct [[nodiscard]] publish_many_result {
  std::size_t accepted = 0; ///< events admitted: the first `accepted` of those given
  /// accepted when all were admitted; otherwise why the next one was refused.
  publish_status status = publish_status::accepted;

  constexpr operator std::size_t() const noexcept { return accepted; } // NOLINT(google-explicit-constructor)
};

} // namespace libra
