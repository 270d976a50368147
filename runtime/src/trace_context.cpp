#include <libra/trace_context.hpp>

#include <fmt/format.h>

#include <charconv>
#include <random>

namespace libra {

namespace {

// Ids must be random (W3C) and cheap: one xoshiro256** generator per thread, seeded once from
// std::random_device. Per-thread state is never shared, so it needs no lock; it is the library's
// only thread_local.
class id_generator {
public:
  id_generator() {
    std::random_device rd;
    for (auto& w : s_)
      w = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  void seed(std::uint64_t seed) noexcept {
    // splitmix64 spreads one word over the four of the state (never all zeros).
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      auto z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::uint64_t next_nonzero() noexcept {
    std::uint64_t v = 0;
    while (v == 0)
      v = next();
    return v;
  }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

id_generator& generator() {
  thread_local id_generator gen;
  return gen;
}

bool parse_hex(std::string_view s, std::uint64_t& out) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false; // W3C: lowercase only
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc{} && p == s.data() + s.size();
}

} // namespace

std::string trace_id::to_hex() const { return fmt::format("{:016x}{:016x}", hi, lo); }

std::string span_id::to_hex() const { return fmt::format("{:016x}", value); }

trace_context trace_context::new_root() {
  auto& g = generator();
  trace_context ctx;
  ctx.trace.hi = g.next();
  ctx.trace.lo = g.next_nonzero();
  ctx.span.value = g.next_nonzero();
  return ctx;
}

void trace_context::seed_thread_ids(std::uint64_t seed) noexcept { generator().seed(seed); }

trace_context trace_context::child() const {
  trace_context ctx = *this;
  ctx.span.value = generator().next_nonzero();
  return ctx;
}

std::string trace_context::traceparent() const {
  return fmt::format("00-{}-{}-{:02x}", trace.to_hex(), span.to_hex(), flags);
}

std::optional<trace_context> trace_context::parse_traceparent(std::string_view text) noexcept {
  // 00-<32 hex>-<16 hex>-<2 hex>
  if (text.size() != 55 || text.substr(0, 3) != "00-" || text[35] != '-' || text[52] != '-')
    return std::nullopt;
  trace_context ctx;
  std::uint64_t flags = 0;
  if (!parse_hex(text.substr(3, 16), ctx.trace.hi) || !parse_hex(text.substr(19, 16), ctx.trace.lo)
      || !parse_hex(text.substr(36, 16), ctx.span.value) || !parse_hex(text.substr(53, 2), flags))
    return std::nullopt;
  if (!ctx.trace.valid() || !ctx.span.valid())
    return std::nullopt;
  ctx.flags = static_cast<std::uint8_t>(flags);
  return ctx;
}

} // namespace libra
