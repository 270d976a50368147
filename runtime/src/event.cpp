#include <libra/event.hpp>

#include <fmt/format.h>

#include <optional>

namespace libra {

namespace {

// Copy/move/destroy the payload held in raw storage, dispatched on its kind. Only order_book and
// risk are non-trivial; the rest are memcpy'd by their trivially copyable constructors.
template <class F>
void with_payload_type(payload_kind k, F&& f) {
  switch (k) {
    case payload_kind::tick:
      return f(static_cast<tick*>(nullptr));
    case payload_kind::bar:
      return f(static_cast<bar*>(nullptr));
    case payload_kind::order_book:
      return f(static_cast<order_book_ptr*>(nullptr));
    case payload_kind::order:
      return f(static_cast<order*>(nullptr));
    case payload_kind::fill:
      return f(static_cast<fill*>(nullptr));
    case payload_kind::position:
      return f(static_cast<position*>(nullptr));
    case payload_kind::risk:
      return f(static_cast<risk*>(nullptr));
    case payload_kind::signal:
      return f(static_cast<signal*>(nullptr));
    case payload_kind::system:
      return f(static_cast<system*>(nullptr));
  }
}

} // namespace

void event::check_payload(event_type type, payload_kind given) {
  if (static_cast<std::size_t>(type) >= event_type_count)
    throw std::invalid_argument("invalid event type");
  if (payload_kind_of(type) != given)
    throw std::invalid_argument(fmt::format("payload does not belong to event type {}", to_string(type)));
}

event event::create(event_type type, source_id source, trace_context trace, timestamp ts) {
  if (static_cast<std::size_t>(type) >= event_type_count)
    throw std::invalid_argument("invalid event type");
  std::optional<event> out;
  with_payload_type(payload_kind_of(type), [&]<class P>(P*) {
    if constexpr (std::is_same_v<P, order_book_ptr>)
      out.emplace(create(type, source, std::make_shared<const order_book>(), trace, ts));
    else
      out.emplace(create(type, source, P{}, trace, ts));
  });
  return std::move(*out);
}

void event::copy_payload_from(const event& other) {
  with_payload_type(other.kind(), [&]<class P>(P*) {
    ::new (static_cast<void*>(&storage_)) P(*std::launder(reinterpret_cast<const P*>(&other.storage_)));
  });
}

void event::move_payload_from(event& other) noexcept {
  with_payload_type(other.kind(), [&]<class P>(P*) {
    ::new (static_cast<void*>(&storage_)) P(std::move(*std::launder(reinterpret_cast<P*>(&other.storage_))));
  });
}

void event::destroy_payload() noexcept {
  with_payload_type(kind(), [&]<class P>(P*) { std::launder(reinterpret_cast<P*>(&storage_))->~P(); });
}

event& event::operator=(const event& other) {
  if (this != &other) {
    event tmp{other};
    *this = std::move(tmp);
  }
  return *this;
}

event& event::operator=(event&& other) noexcept {
  if (this != &other) {
    if (holds_shared())
      destroy_payload();
    ts_ = other.ts_;
    seq_ = other.seq_;
    trace_ = other.trace_;
    span_ = other.span_;
    source_ = other.source_;
    type_ = other.type_;
    flags_ = other.flags_;
    if (other.holds_shared())
      move_payload_from(other);
    else
      std::memcpy(storage_, other.storage_, sizeof storage_);
  }
  return *this;
}

std::string to_string(const event& e) {
  return fmt::format("{} source={} seq={} trace_id={} span_id={}", to_string(e.type()), e.source().view(), e.sequence(),
                     e.trace_id().to_hex(), e.span_id().to_hex());
}

} // namespace libra
