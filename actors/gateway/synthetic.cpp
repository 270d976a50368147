// gateway.synthetic: seeded random-walk quotes at a configured rate, for load tests. The same
// seed gives the same prices (times are the wall clock).
#include "producer.hpp"
#include "register.hpp"

#include <algorithm>
#include <random>

namespace libra::actors {

namespace {

class synthetic_feed : public feed {
public:
  synthetic_feed(instrument_id inst, source_id src, std::uint64_t seed, double rate, std::uint64_t count, price start,
                 price tick_size, price spread)
    : inst_{inst}, src_{src}, rng_{seed}, rate_{rate}, count_{count}, bid_{start.raw() - spread.raw() / 2},
      step_{tick_size.raw()}, spread_{spread.raw()} {}

  std::optional<feed_item> next() override {
    if (count_ != 0 && n_ >= count_)
      return std::nullopt;
    const auto move = static_cast<std::int64_t>(rng_() % 3) - 1; // -1, 0, +1 ticks
    bid_ = std::max(bid_ + move * step_, step_);                 // stays positive
    const auto size = quantity::from_raw(static_cast<std::int64_t>(1 + rng_() % 10) * 100'000 * quantity::scale);
    const auto due = rate_ > 0 ? static_cast<std::int64_t>(static_cast<double>(n_) * 1e9 / rate_) : 0;
    ++n_;
    const tick t{inst_, price::from_raw(bid_), price::from_raw(bid_ + spread_), size, size, {}, {}};
    return feed_item{event::create(event_type::tick, src_, t), due};
  }

private:
  instrument_id inst_;
  source_id src_;
  std::mt19937_64 rng_;
  double rate_;
  std::uint64_t count_; // 0: until halted
  std::uint64_t n_ = 0;
  std::int64_t bid_;
  std::int64_t step_;
  std::int64_t spread_;
};

} // namespace

actor_type_info synthetic_type() {
  return {[](const params& p) -> spawn_fn {
            const auto inst = require_instrument(p);
            const auto seed = p.get<std::uint64_t>("seed", 1);
            const auto rate = p.get_in("rate", 0.0, 0.0, 1e9);
            const auto count = p.get<std::uint64_t>("count", 0);
            const auto start = decimal_param(p, "start_price", price::from_raw(1'100'000'000), price{}, true);
            const auto tick_size = decimal_param(p, "tick_size", price::from_raw(10'000), price{}, true);
            const auto spread = decimal_param(p, "spread", price::from_raw(100'000), price{}, false);
            if (start.raw() - spread.raw() / 2 < tick_size.raw())
              p.fail("start_price", "must leave the bid (start_price - spread/2) at least one tick_size above zero");
            return [=](const actor_context& ctx) {
              return spawn_producer(
                ctx, std::make_shared<synthetic_feed>(inst, ctx.source, seed, rate, count, start, tick_size, spread),
                bad_row_policy::fail);
            };
          },
          "seeded random-walk quotes at a configured rate, for load tests", true};
}

} // namespace libra::actors
