// libra::event: the immutable value every component exchanges. Copying is cheap (128 bytes, plus
// an atomic increment for the two payloads held by shared pointer); an event never changes after
// creation, so copies may be read from any thread.
#pragma once

#include <libra/export.hpp>

#include <libra/event_type.hpp>
#include <libra/payloads.hpp>
#include <libra/symbol.hpp>
#include <libra/trace_context.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace libra {

/// UTC time, nanoseconds since the Unix epoch.
using timestamp = std::chrono::sys_time<std::chrono::nanoseconds>;

/// Current UTC time.
inline timestamp utc_now() noexcept {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

/// The payload kind a payload struct belongs to.
template <class P>
inline constexpr bool is_payload_v = false;
template <class P>
inline constexpr payload_kind payload_kind_for = payload_kind::system;

#define LIBRA_PAYLOAD_KIND(T, K)                                                                                       \
  template <>                                                                                                          \
  inline constexpr bool is_payload_v<T> = true;                                                                        \
  template <>                                                                                                          \
  inline constexpr payload_kind payload_kind_for<T> = payload_kind::K;
LIBRA_PAYLOAD_KIND(tick, tick)
LIBRA_PAYLOAD_KIND(bar, bar)
LIBRA_PAYLOAD_KIND(order_book_ptr, order_book)
LIBRA_PAYLOAD_KIND(order, order)
LIBRA_PAYLOAD_KIND(fill, fill)
LIBRA_PAYLOAD_KIND(position, position)
LIBRA_PAYLOAD_KIND(risk, risk)
LIBRA_PAYLOAD_KIND(signal, signal)
LIBRA_PAYLOAD_KIND(system, system)
#undef LIBRA_PAYLOAD_KIND

template <class P>
concept payload_type = is_payload_v<P>;

/// An immutable event. Members are private and read through accessors; the only ways to get a
/// different event are create(), with_sequence() and child_event(), which return new values.
///
/// Layout (128 bytes, one cache-line pair): timestamp 8, sequence 8, trace id 16, span id 8,
/// payload 64, source 22, type 1, trace flags 1. Priority is derived from the type, not stored.
class LIBRA_API event {
public:
  /// A new event with a fresh trace (or the given one). Throws std::invalid_argument when the
  /// payload does not belong to the type (e.g. a tick payload for ORDER_NEW) or an order book
  /// pointer is null.
  template <payload_type P>
  static event create(event_type type, source_id source, P payload, trace_context trace = trace_context::new_root(),
                      timestamp ts = utc_now()) {
    check_payload(type, payload_kind_for<P>);
    if constexpr (std::is_same_v<P, order_book_ptr>)
      if (!payload)
        throw std::invalid_argument("order book event needs a non-null book");
    return event{type, source, std::move(payload), trace, ts};
  }

  /// As above, with the type known at compile time: a payload of another kind than the type's
  /// does not compile (`event::create<event_type::tick>("gw", tick{...})`).
  template <event_type Type, payload_type P>
  requires(payload_kind_of(Type) == payload_kind_for<P>) static event
    create(source_id source, P payload, trace_context trace = trace_context::new_root(), timestamp ts = utc_now()) {
    return create(Type, source, std::move(payload), trace, ts);
  }

  /// A new event whose payload is its type's payload kind, default-constructed (an empty order
  /// book for ORDER_BOOK): for notices that carry nothing but their type and source.
  static event create(event_type type, source_id source, trace_context trace = trace_context::new_root(),
                      timestamp ts = utc_now());

  /// An event caused by this one: same trace id, new span id, sequence 0, current time.
  template <payload_type P>
  [[nodiscard]] event child_event(event_type type, source_id source, P payload, timestamp ts = utc_now()) const {
    return create(type, source, std::move(payload), trace().child(), ts);
  }

  /// The same event with a sequence number (the bus assigns it at admission).
  [[nodiscard]] event with_sequence(std::uint64_t seq) const& {
    event copy{*this};
    copy.seq_ = seq;
    return copy;
  }
  /// As above, reusing this (expiring) event's payload.
  [[nodiscard]] event with_sequence(std::uint64_t seq) && {
    event moved{std::move(*this)};
    moved.seq_ = seq;
    return moved;
  }

  // Copies are on the bus's hot path: payloads without shared pointers (all but order book and
  // risk) are copied as raw bytes, inline; the other two take the out-of-line path.
  event(const event& other) noexcept(false)
    : ts_{other.ts_}, seq_{other.seq_}, trace_{other.trace_}, span_{other.span_}, source_{other.source_},
      type_{other.type_}, flags_{other.flags_} {
    if (other.holds_shared())
      copy_payload_from(other);
    else
      std::memcpy(storage_, other.storage_, sizeof storage_);
  }
  event(event&& other) noexcept
    : ts_{other.ts_}, seq_{other.seq_}, trace_{other.trace_}, span_{other.span_}, source_{other.source_},
      type_{other.type_}, flags_{other.flags_} {
    if (other.holds_shared())
      move_payload_from(other);
    else
      std::memcpy(storage_, other.storage_, sizeof storage_);
  }
  event& operator=(const event& other);
  event& operator=(event&& other) noexcept;
  ~event() {
    if (holds_shared())
      destroy_payload();
  }

  [[nodiscard]] event_type type() const noexcept { return type_; }
  [[nodiscard]] libra::priority priority() const noexcept { return priority_of(type_); }
  [[nodiscard]] timestamp time() const noexcept { return ts_; }
  [[nodiscard]] const source_id& source() const noexcept { return source_; }
  [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }
  [[nodiscard]] trace_context trace() const noexcept { return {trace_, span_, flags_}; }
  [[nodiscard]] const libra::trace_id& trace_id() const noexcept { return trace_; }
  [[nodiscard]] const libra::span_id& span_id() const noexcept { return span_; }
  [[nodiscard]] payload_kind kind() const noexcept { return payload_kind_of(type_); }

  /// The payload as P, or nullptr when the event carries another kind.
  template <payload_type P>
  [[nodiscard]] const P* get_if() const noexcept {
    if (kind() != payload_kind_for<P>)
      return nullptr;
    return std::launder(reinterpret_cast<const P*>(&storage_));
  }
  /// The payload as P; throws std::bad_variant_access when the event carries another kind.
  template <payload_type P>
  [[nodiscard]] const P& get() const {
    if (const P* p = get_if<P>())
      return *p;
    throw std::bad_variant_access{};
  }
  /// Calls f with the payload (const P&) and returns its result.
  template <class F>
  decltype(auto) visit(F&& f) const;

  /// Dispatch order: more urgent priority first, then lower sequence (admission order).
  friend bool operator<(const event& a, const event& b) noexcept {
    if (a.priority() != b.priority())
      return a.priority() < b.priority();
    return a.seq_ < b.seq_;
  }

private:
  template <class P>
  event(event_type type, source_id source, P&& payload, trace_context trace, timestamp ts) noexcept
    : ts_{ts}, trace_{trace.trace}, span_{trace.span}, source_{source}, type_{type}, flags_{trace.flags} {
    ::new (static_cast<void*>(&storage_)) std::decay_t<P>(std::forward<P>(payload));
  }
  [[nodiscard]] bool holds_shared() const noexcept {
    const auto k = kind();
    return k == payload_kind::order_book || k == payload_kind::risk;
  }
  static void check_payload(event_type type, payload_kind given);
  void copy_payload_from(const event& other);
  void move_payload_from(event& other) noexcept;
  void destroy_payload() noexcept;

  timestamp ts_;
  std::uint64_t seq_ = 0;
  libra::trace_id trace_;
  libra::span_id span_;
  alignas(8) unsigned char storage_[64] = {}; // one payload, its kind given by type_
  source_id source_;
  event_type type_;
  std::uint8_t flags_;
};

static_assert(sizeof(event) <= 128, "an event must fit in 128 bytes");

template <class F>
decltype(auto) event::visit(F&& f) const {
  switch (kind()) {
    case payload_kind::tick:
      return std::forward<F>(f)(get<tick>());
    case payload_kind::bar:
      return std::forward<F>(f)(get<bar>());
    case payload_kind::order_book:
      return std::forward<F>(f)(get<order_book_ptr>());
    case payload_kind::order:
      return std::forward<F>(f)(get<order>());
    case payload_kind::fill:
      return std::forward<F>(f)(get<fill>());
    case payload_kind::position:
      return std::forward<F>(f)(get<position>());
    case payload_kind::risk:
      return std::forward<F>(f)(get<risk>());
    case payload_kind::signal:
      return std::forward<F>(f)(get<signal>());
    case payload_kind::system:
      break;
  }
  return std::forward<F>(f)(get<system>());
}

/// One-line description for logs: type, source, sequence, trace/span ids.
LIBRA_API std::string to_string(const event& e);

} // namespace libra
