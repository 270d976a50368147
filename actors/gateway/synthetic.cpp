// gateway.synthetic: seeded random-walk quotes at a configured rate, for load tests.
#include "producer.hpp"
#include "register.hpp"

#include <random>

namespace libra::actors {

namespace {

class synthetic_feed : public feed {
public:
  synthetic_feed(instrument_id inst, source_id src, std::uint64_t seed, double rate, std::uint64_t count, price start,
                 price tick_size, price spread)
    : inst_{inst}, src_{src}, rng_{seed}, rate_{rate}, count_{count}, mid_{start.raw()}, step_{tick_size.raw()},
      half_spread_{spread.raw() / 2} {}

  std::optional<feed_item> next() override {
    if (count_ != 0 && n_ >= count_)
      return std::nullopt;
    const auto move = static_cast<std::int64_t>(rng_() % 3) - 1; // -1, 0, +1 ticks
    mid_ = std::max(mid_ + move * step_, step_ + half_spread_);
    const auto bid = price::from_raw(mid_ - half_spread_);
    const auto ask = price::from_raw(mid_ + half_spread_);
    const auto size = quantity::from_raw(static_cast<std::int64_t>(1 + rng_() % 10) * 100'000 * quantity::scale);
    const auto due = rate_ > 0 ? static_cast<std::int64_t>(static_cast<double>(n_) * 1e9 / rate_) : 0;
    ++n_;
    return feed_item{event::create(event_type::tick, src_, tick{inst_, bid, ask, size, size, {}, {}}), due};
  }

private:
  instrument_id inst_;
  source_id src_;
  std::mt19937_64 rng_;
  double rate_;
  std::uint64_t count_;
  std::uint64_t n_ = 0;
  std::int64_t mid_;
  std::int64_t step_;
  std::int64_t half_spread_;
};

} // namespace

actor_type_info synthetic_type() {
  return {[](const params& p) -> spawn_fn {
            const auto inst = require_instrument(p);
            const auto seed = p.get<std::uint64_t>("seed", 1);
            const auto rate = p.get_in("rate", 0.0, 0.0, 1e9);
            const auto count = p.get<std::uint64_t>("count", 0);
            const auto start = price::from_double(p.get_in("start_price", 1.1, 1e-6, 1e9));
            const auto tick_size = price::from_double(p.get_in("tick_size", 0.00001, 1e-9, 1e6));
            const auto spread = price::from_double(p.get_in("spread", 0.0001, 0.0, 1e6));
            return [=](const actor_context& ctx) {
              return spawn_producer(
                ctx, std::make_shared<synthetic_feed>(inst, ctx.source, seed, rate, count, start, tick_size, spread),
                {});
            };
          },
          "seeded random-walk quotes at a configured rate (load tests)", true};
}

} // namespace libra::actors
