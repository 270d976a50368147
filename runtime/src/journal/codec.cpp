#include "codec.hpp"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <fmt/format.h>

namespace libra::journal {

namespace jf = journal_format;

static_assert(std::endian::native == std::endian::little, "the journal codec assumes a little-endian host");

std::uint32_t load_u32(const std::byte* p) noexcept {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t load_u64(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t body_checksum(std::span<const std::byte> body) noexcept {
  return XXH3_64bits_withSeed(body.data(), body.size(), body.size());
}

namespace {

// -- writing ----------------------------------------------------------------------------------

/// The field encodings (journal_format.hpp), over the byte sink of the class deriving from it
/// (CRTP: no virtual call per field).
template <class Sink>
class field_writer {
public:
  void u8(std::uint8_t v) { put(v); }
  void u16(std::uint16_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  void i64(std::int64_t v) { put(v); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  template <class Tag>
  void dec(fixed_decimal<Tag> v) {
    i64(v.raw());
  }
  template <std::size_t N>
  void name(const fixed_name<N>& n) {
    const auto v = n.view();
    u8(static_cast<std::uint8_t>(v.size()));
    sink().raw(v.data(), v.size());
  }

private:
  template <class T>
  void put(T v) {
    sink().raw(&v, sizeof v);
  }
  Sink& sink() { return static_cast<Sink&>(*this); }
};

/// Over spare memory of a guessed size: it stops at the end and says so (then the record is
/// sized first). One pass over the event instead of two for nearly all.
class bounded_writer : public field_writer<bounded_writer> {
public:
  bounded_writer(std::byte* at, std::byte* end) noexcept : begin_{at}, at_{at}, end_{end} {}
  void raw(const void* p, std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - at_)) [[unlikely]] {
      at_ = end_;
      full_ = true;
      return;
    }
    std::memcpy(at_, p, n);
    at_ += n;
  }
  [[nodiscard]] bool fits() const noexcept { return !full_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(at_ - begin_); }

private:
  std::byte* begin_;
  std::byte* at_;
  std::byte* end_;
  bool full_ = false;
};

/// Over memory already sized for the record (record_size() counts it first): no capacity check
/// or growth per field.
class raw_writer : public field_writer<raw_writer> {
public:
  explicit raw_writer(std::byte* at) noexcept : at_{at} {}
  void raw(const void* p, std::size_t n) {
    std::memcpy(at_, p, n);
    at_ += n;
  }

private:
  std::byte* at_;
};

/// Counting the bytes instead of writing them.
class size_counter : public field_writer<size_counter> {
public:
  void raw(const void* /*unused*/, std::size_t n) { n_ += n; }
  [[nodiscard]] std::size_t size() const { return n_; }

private:
  std::size_t n_ = 0;
};

template <class W>
struct payload_writer {
  W& w;
  void operator()(const tick& t) const {
    w.name(t.instrument);
    w.dec(t.bid);
    w.dec(t.ask);
    w.dec(t.bid_size);
    w.dec(t.ask_size);
    w.dec(t.last);
    w.dec(t.last_size);
  }
  void operator()(const bar& b) const {
    w.name(b.instrument);
    w.dec(b.open);
    w.dec(b.high);
    w.dec(b.low);
    w.dec(b.close);
    w.dec(b.volume);
    w.i64(b.interval.count());
  }
  void operator()(const order_book_ptr& b) const {
    w.name(b->instrument);
    w.u32(static_cast<std::uint32_t>(b->bids.size()));
    w.u32(static_cast<std::uint32_t>(b->asks.size()));
    for (const auto* side : {&b->bids, &b->asks})
      for (const auto& l : *side) {
        w.dec(l.price);
        w.dec(l.size);
      }
  }
  void operator()(const order& o) const {
    w.u64(value(o.id));
    w.u64(value(o.client_id));
    w.name(o.instrument);
    w.dec(o.quantity);
    w.dec(o.price);
    w.u8(static_cast<std::uint8_t>(o.side));
    w.u8(static_cast<std::uint8_t>(o.type));
    w.u8(static_cast<std::uint8_t>(o.status));
    w.u8(static_cast<std::uint8_t>(o.reason));
  }
  void operator()(const fill& f) const {
    w.u64(value(f.id));
    w.u64(value(f.client_id));
    w.name(f.instrument);
    w.dec(f.price);
    w.dec(f.quantity);
    w.dec(f.fee);
    w.u8(static_cast<std::uint8_t>(f.side));
  }
  void operator()(const position& p) const {
    w.name(p.instrument);
    w.dec(p.quantity);
    w.dec(p.average_price);
    w.dec(p.realized_pnl);
    w.dec(p.unrealized_pnl);
  }
  void operator()(const risk& r) const {
    w.u8(static_cast<std::uint8_t>(r.rule));
    w.name(r.instrument);
    w.f64(r.limit);
    w.f64(r.value);
    w.u8(r.message ? 1 : 0);
    if (r.message) {
      w.u32(static_cast<std::uint32_t>(r.message->size()));
      w.raw(r.message->data(), r.message->size());
    }
  }
  void operator()(const signal& s) const {
    w.name(s.instrument);
    w.u8(static_cast<std::uint8_t>(s.side));
    w.f64(s.strength);
    w.dec(s.reference);
  }
  void operator()(const system& s) const { w.name(s.component); }
};

// -- reading ----------------------------------------------------------------------------------

/// Reads fields off a body; the first failure sticks (with what and where) and later reads
/// return zeros, so decoding code reads straight through and checks once.
class reader {
public:
  explicit reader(std::span<const std::byte> in) : in_{in} {}
  [[nodiscard]] bool ok() const noexcept { return !error_; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] std::size_t left() const noexcept { return in_.size() - pos_; }
  void fail(std::string why) {
    if (!error_)
      error_ = fmt::format("body offset {}: {}", pos_, why);
  }
  std::optional<std::string>& error() { return error_; }

  std::uint8_t u8() {
    std::uint8_t v = 0;
    take(&v, sizeof v);
    return v;
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    take(&v, sizeof v);
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    take(&v, sizeof v);
    return v;
  }
  std::int64_t i64() {
    std::int64_t v = 0;
    take(&v, sizeof v);
    return v;
  }
  double f64() { return std::bit_cast<double>(u64()); }
  template <class D>
  D dec() {
    return D::from_raw(i64());
  }
  template <class Name>
  Name name(const char* what) {
    const auto n = u8();
    if (n > Name::max_length) {
      fail(fmt::format("{} of {} bytes (at most {})", what, n, Name::max_length));
      return Name{};
    }
    std::string_view text{chars(n), ok() ? n : std::size_t{0}};
    if (!ok())
      return Name{};
    if (!Name::fits(text)) {
      fail(fmt::format("{} is not valid UTF-8 or contains a NUL", what));
      return Name{};
    }
    return Name{text};
  }
  template <class Enum>
  Enum enumerated(const char* what, std::uint8_t count) {
    const auto v = u8();
    if (v >= count)
      fail(fmt::format("{} {} is out of range (< {})", what, v, count));
    return static_cast<Enum>(v < count ? v : 0);
  }
  const char* chars(std::size_t n) {
    if (!ok() || n > left()) {
      fail(fmt::format("{} bytes needed, {} left", n, left()));
      return nullptr;
    }
    const auto* p = reinterpret_cast<const char*>(in_.data() + pos_); // NOLINT: bytes as text
    pos_ += n;
    return p;
  }

private:
  void take(void* dst, std::size_t n) {
    if (const char* p = chars(n))
      std::memcpy(dst, p, n);
  }
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  std::optional<std::string> error_;
};

constexpr std::uint8_t side_count = 3;
constexpr std::uint8_t order_type_count = 2;
constexpr std::uint8_t order_status_count = 6;
constexpr std::uint8_t order_reason_count = 9;
constexpr std::uint8_t risk_rule_count = 7;

template <class P>
P read_payload(reader& r);

template <>
tick read_payload<tick>(reader& r) {
  tick t;
  t.instrument = r.name<instrument_id>("instrument");
  t.bid = r.dec<price>();
  t.ask = r.dec<price>();
  t.bid_size = r.dec<quantity>();
  t.ask_size = r.dec<quantity>();
  t.last = r.dec<price>();
  t.last_size = r.dec<quantity>();
  return t;
}
template <>
bar read_payload<bar>(reader& r) {
  bar b;
  b.instrument = r.name<instrument_id>("instrument");
  b.open = r.dec<price>();
  b.high = r.dec<price>();
  b.low = r.dec<price>();
  b.close = r.dec<price>();
  b.volume = r.dec<quantity>();
  b.interval = std::chrono::nanoseconds{r.i64()};
  return b;
}
template <>
order_book_ptr read_payload<order_book_ptr>(reader& r) {
  auto b = std::make_shared<order_book>();
  b->instrument = r.name<instrument_id>("instrument");
  const auto bids = r.u32();
  const auto asks = r.u32();
  // Each level takes 16 bytes: counts the body cannot hold are refused before any allocation.
  if (r.ok() && (std::uint64_t{bids} + asks) * 16 > r.left()) {
    r.fail(fmt::format("{} bid and {} ask levels do not fit in the {} bytes left", bids, asks, r.left()));
    return b;
  }
  b->bids.reserve(bids);
  b->asks.reserve(asks);
  for (std::uint32_t i = 0; i < bids; ++i)
    b->bids.push_back({r.dec<price>(), r.dec<quantity>()});
  for (std::uint32_t i = 0; i < asks; ++i)
    b->asks.push_back({r.dec<price>(), r.dec<quantity>()});
  return b;
}
template <>
order read_payload<order>(reader& r) {
  order o;
  o.id = order_id{r.u64()};
  o.client_id = client_order_id{r.u64()};
  o.instrument = r.name<instrument_id>("instrument");
  o.quantity = r.dec<quantity>();
  o.price = r.dec<price>();
  o.side = r.enumerated<side>("side", side_count);
  o.type = r.enumerated<order_type>("order type", order_type_count);
  o.status = r.enumerated<order_status>("order status", order_status_count);
  o.reason = r.enumerated<order_reason>("order reason", order_reason_count);
  return o;
}
template <>
fill read_payload<fill>(reader& r) {
  fill f;
  f.id = order_id{r.u64()};
  f.client_id = client_order_id{r.u64()};
  f.instrument = r.name<instrument_id>("instrument");
  f.price = r.dec<price>();
  f.quantity = r.dec<quantity>();
  f.fee = r.dec<money>();
  f.side = r.enumerated<side>("side", side_count);
  return f;
}
template <>
position read_payload<position>(reader& r) {
  position p;
  p.instrument = r.name<instrument_id>("instrument");
  p.quantity = r.dec<quantity>();
  p.average_price = r.dec<price>();
  p.realized_pnl = r.dec<money>();
  p.unrealized_pnl = r.dec<money>();
  return p;
}
template <>
risk read_payload<risk>(reader& r) {
  risk k;
  k.rule = r.enumerated<risk_rule>("risk rule", risk_rule_count);
  k.instrument = r.name<instrument_id>("instrument");
  k.limit = r.f64();
  k.value = r.f64();
  const auto has = r.u8();
  if (has > 1)
    r.fail(fmt::format("message flag {} is neither 0 nor 1", has));
  if (has == 1 && r.ok()) {
    const auto n = r.u32();
    if (const char* p = r.chars(n))
      k.message = std::make_shared<const std::string>(p, n);
  }
  return k;
}
template <>
signal read_payload<signal>(reader& r) {
  signal s;
  s.instrument = r.name<instrument_id>("instrument");
  s.side = r.enumerated<side>("side", side_count);
  s.strength = r.f64();
  s.reference = r.dec<price>();
  return s;
}
template <>
system read_payload<system>(reader& r) {
  return system{r.name<source_id>("component")};
}

template <class P>
std::optional<std::string> finish(reader& r, event_type type, source_id source, trace_context trace, timestamp ts,
                                  std::uint64_t seq, record& out) {
  auto payload = read_payload<P>(r);
  if (r.ok() && r.left() != 0)
    r.fail(fmt::format("{} bytes past the payload", r.left()));
  if (!r.ok())
    return std::move(r.error());
  out.ev = event::create(type, source, std::move(payload), trace, ts).with_sequence(seq);
  return std::nullopt;
}

} // namespace

std::array<std::byte, journal_format::segment_header_size> encode_header(const segment_header& h) {
  std::array<std::byte, jf::segment_header_size> out{};
  raw_writer w{out.data()};
  w.raw(jf::magic.data(), jf::magic.size());
  w.u16(h.version);
  w.u16(static_cast<std::uint16_t>(jf::segment_header_size));
  w.u32(0);
  w.i64(h.created.time_since_epoch().count());
  w.u64(h.run.hi);
  w.u64(h.run.lo);
  w.u32(h.index);
  w.u32(h.types);
  w.u64(0);
  w.u64(XXH3_64bits(out.data(), jf::segment_header_size - 8));
  return out;
}

std::optional<std::string> decode_header(std::span<const std::byte> bytes, segment_header& out) {
  if (bytes.size() < jf::segment_header_size)
    return fmt::format("truncated segment header: {} of {} bytes", bytes.size(), jf::segment_header_size);
  if (std::memcmp(bytes.data(), jf::magic.data(), jf::magic.size()) != 0)
    return std::string{"not a libra journal segment (bad magic)"};
  std::uint16_t version = 0;
  std::memcpy(&version, bytes.data() + 8, sizeof version);
  if (version > jf::format_version || version == 0)
    return fmt::format("segment format version {} (this libra reads version {} and older)", version,
                       jf::format_version);
  if (XXH3_64bits(bytes.data(), 56) != load_u64(bytes.data() + 56))
    return std::string{"segment header checksum mismatch"};
  std::uint16_t size = 0;
  std::memcpy(&size, bytes.data() + 10, sizeof size);
  if (size != jf::segment_header_size)
    return fmt::format("segment header size {} (expected {})", size, jf::segment_header_size);
  out.version = version;
  out.created = timestamp{std::chrono::nanoseconds{static_cast<std::int64_t>(load_u64(bytes.data() + 16))}};
  out.run = trace_id{load_u64(bytes.data() + 24), load_u64(bytes.data() + 32)};
  out.index = load_u32(bytes.data() + 40);
  out.types = load_u32(bytes.data() + 44);
  return std::nullopt;
}

namespace {

/// A record's body, through a writer or a size_counter.
template <class W>
void write_body(W& w, const event& e, std::optional<span_id> parent) {
  w.u8(static_cast<std::uint8_t>(e.type()));
  w.u8(static_cast<std::uint8_t>(e.priority()));
  w.u8(e.trace().flags);
  w.u8(parent ? jf::flag_parent_span : 0);
  w.i64(e.time().time_since_epoch().count());
  w.u64(e.sequence());
  w.u64(e.trace_id().hi);
  w.u64(e.trace_id().lo);
  w.u64(e.span_id().value);
  if (parent)
    w.u64(parent->value);
  w.name(e.source());
  e.visit(payload_writer<W>{w});
}

/// The record's header at `at`, for the len bytes of body written after it: length, checksum.
void write_record_header(std::byte* at, std::uint32_t len) noexcept {
  std::memcpy(at, &len, sizeof len);
  const auto sum = body_checksum({at + jf::record_header_size, len});
  std::memcpy(at + 4, &sum, sizeof sum);
}

} // namespace

void encode_record(const event& e, std::vector<std::byte>& out, std::optional<span_id> parent) {
  const auto n = record_size(e, parent);
  const auto start = out.size();
  out.resize(start + n);
  encode_record_at(e, out.data() + start, n, parent);
}

void encode_record(const event& e, byte_buffer& out, std::optional<span_id> parent) {
  // Every record but a deep book or a long risk text fits this: written in one pass.
  constexpr std::size_t guess = 512;
  auto* at = out.spare(guess);
  bounded_writer w{at + jf::record_header_size, at + guess};
  write_body(w, e, parent);
  if (w.fits()) [[likely]] {
    write_record_header(at, static_cast<std::uint32_t>(w.size()));
    out.commit(jf::record_header_size + w.size());
    return;
  }
  const auto n = record_size(e, parent);
  encode_record_at(e, out.extend(n), n, parent);
}

void byte_buffer::reserve(std::size_t n) {
  if (n <= cap_)
    return;
  auto bigger = std::make_unique_for_overwrite<std::byte[]>(n); // NOLINT(*-avoid-c-arrays)
  if (size_ > 0)
    std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  cap_ = n;
}

std::size_t record_size(const event& e, std::optional<span_id> parent) noexcept {
  size_counter count;
  write_body(count, e, parent);
  return jf::record_header_size + count.size();
}

void encode_record_at(const event& e, std::byte* out, std::size_t size, std::optional<span_id> parent) noexcept {
  raw_writer w{out + jf::record_header_size};
  write_body(w, e, parent);
  write_record_header(out, static_cast<std::uint32_t>(size - jf::record_header_size));
}

std::optional<std::string> decode_body(std::span<const std::byte> body, record& out) {
  reader r{body};
  const auto type_raw = r.u8();
  const auto prio = r.u8();
  const auto trace_flags = r.u8();
  const auto flags = r.u8();
  if (type_raw >= event_type_count)
    return fmt::format("event type {} is out of range (< {})", type_raw, event_type_count);
  const auto type = static_cast<event_type>(type_raw);
  if (prio != static_cast<std::uint8_t>(priority_of(type)))
    return fmt::format("priority {} does not match type {} ({})", prio, to_string(type),
                       static_cast<unsigned>(priority_of(type)));
  if ((flags & ~jf::flag_parent_span) != 0)
    return fmt::format("unknown record flags 0x{:02x}", flags);
  const timestamp ts{std::chrono::nanoseconds{r.i64()}};
  const auto seq = r.u64();
  trace_context trace;
  trace.trace.hi = r.u64();
  trace.trace.lo = r.u64();
  trace.span.value = r.u64();
  trace.flags = trace_flags;
  out.parent.reset();
  if ((flags & jf::flag_parent_span) != 0)
    out.parent = span_id{r.u64()};
  const auto source = r.name<source_id>("source");
  if (!r.ok())
    return std::move(r.error());
  switch (payload_kind_of(type)) {
    case payload_kind::tick:
      return finish<tick>(r, type, source, trace, ts, seq, out);
    case payload_kind::bar:
      return finish<bar>(r, type, source, trace, ts, seq, out);
    case payload_kind::order_book:
      return finish<order_book_ptr>(r, type, source, trace, ts, seq, out);
    case payload_kind::order:
      return finish<order>(r, type, source, trace, ts, seq, out);
    case payload_kind::fill:
      return finish<fill>(r, type, source, trace, ts, seq, out);
    case payload_kind::position:
      return finish<position>(r, type, source, trace, ts, seq, out);
    case payload_kind::risk:
      return finish<risk>(r, type, source, trace, ts, seq, out);
    case payload_kind::signal:
      return finish<signal>(r, type, source, trace, ts, seq, out);
    case payload_kind::system:
      break;
  }
  return finish<system>(r, type, source, trace, ts, seq, out);
}

std::optional<std::string> decode_record(std::span<const std::byte> bytes, record& out, std::size_t& size) {
  if (bytes.size() < jf::record_header_size)
    return "truncated record header";
  const auto len = load_u32(bytes.data());
  if (len < jf::min_body_size || len > jf::max_body_size || len > bytes.size() - jf::record_header_size)
    return fmt::format("bad record length {}", len);
  const auto body = bytes.subspan(jf::record_header_size, len);
  if (body_checksum(body) != load_u64(bytes.data() + 4))
    return "checksum mismatch";
  if (auto err = decode_body(body, out))
    return err;
  size = jf::record_header_size + len;
  return std::nullopt;
}

} // namespace libra::journal
