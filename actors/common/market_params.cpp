#include "market_params.hpp"

#include <libra/text.hpp>

#include <fmt/format.h>

namespace libra::actors {

instrument_id require_instrument(const params& p) {
  return instrument_id{p.require_name("instrument", instrument_id::max_length)};
}

price decimal_param(const params& p, std::string_view key, price fallback, price min, bool min_exclusive) {
  if (!p.has(key))
    return fallback;
  const auto text = p.require<std::string>(key);
  const auto v = price::parse(text);
  if (!v)
    p.fail(key, fmt::format("expected a plain decimal number with at most {} decimals (e.g. 0.00001), got '{}'",
                            price::decimals, printable(text)));
  if (min_exclusive ? *v <= min : *v < min)
    p.fail(key, fmt::format("must be {} {}", min_exclusive ? "above" : "at least", min.to_string()));
  return *v;
}

} // namespace libra::actors
