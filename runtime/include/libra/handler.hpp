// Handlers and filters for bus subscriptions. A handler has an identity (copies of one handler
// compare equal, two handlers made from the same lambda do not), which is what
// bus::unsubscribe_handler matches on. Handlers are called on their subscriber actor; filters on
// the broker, so a filter must be cheap and must not touch state shared without synchronisation.
#pragma once

#include <libra/event.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace libra {

/// Identifies one subscription on one bus; 0 is never issued.
using subscription_id = std::uint64_t;

/// A callable taking const event&, with identity.
class handler {
public:
  handler() = default;
  template <class F>
  requires(std::invocable<F&, const event&> && !std::same_as<std::decay_t<F>, handler>)
    handler(F fn) // NOLINT(google-explicit-constructor): lambdas convert, as std::function does
    : fn_{std::make_shared<const std::function<void(const event&)>>(std::move(fn))} {}

  void operator()(const event& e) const { (*fn_)(e); }
  explicit operator bool() const noexcept { return fn_ != nullptr; }
  /// Same identity: one is a copy of the other.
  friend bool operator==(const handler& a, const handler& b) noexcept { return a.fn_ == b.fn_; }

private:
  std::shared_ptr<const std::function<void(const event&)>> fn_;
};

/// Optional predicate: the subscription receives only events for which it returns true.
using filter = std::function<bool(const event&)>;

} // namespace libra
