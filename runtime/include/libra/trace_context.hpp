// W3C Trace Context (https://www.w3.org/TR/trace-context/) for events: a 128-bit trace id shared
// by every event of one causal chain, and a 64-bit span id per event. Values; thread-safe.
#pragma once

#include <libra/export.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace libra {

/// 128-bit trace id; never all zeros when valid (W3C).
struct LIBRA_API trace_id {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  [[nodiscard]] constexpr bool valid() const noexcept { return (hi | lo) != 0; }
  /// 32 lowercase hex characters.
  [[nodiscard]] std::string to_hex() const;
  constexpr auto operator<=>(const trace_id&) const noexcept =
    default; // NOLINT(modernize-use-nullptr): clang-tidy 14 misfires on defaulted <=>
};

/// 64-bit span id; never zero when valid (W3C).
struct LIBRA_API span_id {
  std::uint64_t value = 0;
  [[nodiscard]] constexpr bool valid() const noexcept { return value != 0; }
  /// 16 lowercase hex characters.
  [[nodiscard]] std::string to_hex() const;
  constexpr auto operator<=>(const span_id&) const noexcept = default;
};

/// The trace context an event carries.
struct LIBRA_API trace_context {
  trace_id trace;
  span_id span;
  std::uint8_t flags = 0x01; ///< W3C trace-flags; 0x01 = sampled

  /// A new trace: random trace id and span id.
  static trace_context new_root();
  /// Makes this thread's ids a fixed sequence from seed (new_root(), child()): deterministic mode
  /// runs every actor on one thread, so the same run draws the same ids in the same order. Ids
  /// stay well spread (xoshiro256**, seeded through splitmix64); they are no longer unguessable.
  static void seed_thread_ids(std::uint64_t seed) noexcept;
  /// Same trace id, new random span id (the context of an event caused by this one).
  [[nodiscard]] trace_context child() const;
  /// "00-<trace id>-<span id>-<flags>", the W3C traceparent header value.
  [[nodiscard]] std::string traceparent() const;
  /// Parses a version-00 traceparent; nullopt when malformed or the ids are all zeros.
  static std::optional<trace_context> parse_traceparent(std::string_view text) noexcept;

  constexpr bool operator==(const trace_context&) const noexcept = default;
};

} // namespace libra
