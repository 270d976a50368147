#include "utc_text.hpp"

#include <fmt/format.h>

#include <chrono>

namespace libra::actors {

std::string format_utc(timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  auto frac = hms.subseconds().count(); // nanoseconds
  int digits_shown = 9;
  for (; digits_shown > 3 && frac % 1000 == 0; digits_shown -= 3)
    frac /= 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), frac, digits_shown);
}

} // namespace libra::actors
