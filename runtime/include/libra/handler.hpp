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
#include <type_traits>
#include <utility>

namespace libra {

namespace detail {
class bus_core;
} // namespace detail

/// Identifies one subscription on one bus; 0 is never issued.
using subscription_id = std::uint64_t;

/// A callable taking const event&, with identity: copies of one handler are the same handler;
/// two handlers made from plain functions are the same when the function is; two made from
/// lambdas (even copies of one lambda) are not. Bind a lambda to a `libra::handler` once and
/// pass that to subscribe() for several types, and it runs on one subscriber actor.
class handler {
public:
  handler() = default;
  template <class F>
  requires(std::invocable<F&, const event&> && !std::same_as<std::decay_t<F>, handler>)
    handler(F fn) // NOLINT(google-explicit-constructor): lambdas convert, as std::function does
    : fn_{std::make_shared<const std::function<void(const event&)>>(std::move(fn))} {
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>)
      id_ = reinterpret_cast<std::uintptr_t>(fn); // a plain function: its address
    else
      id_ = reinterpret_cast<std::uintptr_t>(fn_.get()); // a callable: this object and its copies
  }

  void operator()(const event& e) const { (*fn_)(e); }
  explicit operator bool() const noexcept { return fn_ != nullptr; }
  /// Same identity: one is a copy of the other, or both call the same plain function.
  friend bool operator==(const handler& a, const handler& b) noexcept { return a.id_ == b.id_; }

private:
  friend class detail::bus_core; // keys a handler's one subscriber actor by identity
  [[nodiscard]] std::uintptr_t identity() const noexcept { return id_; }
  std::shared_ptr<const std::function<void(const event&)>> fn_;
  std::uintptr_t id_ = 0;
};

/// Optional predicate: the subscription receives only events for which it returns true.
using filter = std::function<bool(const event&)>;

} // namespace libra
