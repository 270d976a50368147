// The on-disk format of libra's event journal (libra-runtime --journal, libra-journal), version 1:
// the constants and the byte layout, so that another tool can read a journal without libra.
// Constants only; safe from any thread.
//
// A journal is a directory of segment files named NNNNNNNN.journal (8 decimal digits, counting
// from 00000001 across runs: name order is write order). Each segment belongs to one run and
// holds a header, then records, back to back. Every integer is little-endian; signed integers
// are two's complement; a double is its IEEE-754 binary64 bits as a u64.
//
// Segment header (segment_header_size = 64 bytes):
//   offset size  field
//        0    8  magic "LIBRAJNL"
//        8    2  u16 format version (format_version; a reader refuses a newer one)
//       10    2  u16 header size (64)
//       12    4  u32 flags (0)
//       16    8  i64 created at, ns since the Unix epoch (UTC, wall clock)
//       24   16  run id: u64 hi, u64 lo (random per run; every segment of a run has the same)
//       40    4  u32 segment index within the run (0, 1, ...)
//       44    4  u32 type mask: bit t set when event type t is journaled (event_type.hpp)
//       48    8  reserved (0)
//       56    8  u64 XXH3-64 (seed 0) of bytes 0..55
//
// Record (record_header_size = 12 bytes, then the body):
//        0    4  u32 body length L (min_body_size <= L <= max_body_size)
//        4    8  u64 XXH3_64bits_withSeed(body, L, seed = L): the seed binds the length
//       12    L  body
//
// Body: the whole event.
//        0    1  u8 event type (event_type.hpp order; < 18)
//        1    1  u8 priority (priority_of(type), stored for readers without the table)
//        2    1  u8 W3C trace flags
//        3    1  u8 record flags: bit 0 = a parent span id follows the span id
//        4    8  i64 event timestamp, ns since the Unix epoch
//       12    8  u64 sequence number (the bus's admission number, from 1 in each run)
//       20   16  trace id: u64 hi, u64 lo
//       36    8  u64 span id
//      [44    8  u64 parent span id, when record flag bit 0]
//        then     name: source (u8 length <= 21, UTF-8 bytes)
//        then     the payload of the type's payload kind:
//   tick       name instrument (<= 15), i64 bid, ask, bid_size, ask_size, last, last_size
//   bar        name instrument, i64 open, high, low, close, volume, i64 interval ns
//   order_book name instrument, u32 bid levels, u32 ask levels, then each level (bids best
//              first, then asks best first): i64 price, i64 size
//   order      u64 id, u64 client id, name instrument, i64 quantity, i64 price, u8 side,
//              u8 order type, u8 status, u8 reason
//   fill       u64 id, u64 client id, name instrument, i64 price, i64 quantity, i64 fee, u8 side
//   position   name instrument, i64 quantity, average price, realized pnl, unrealized pnl
//   risk       u8 rule, name instrument, f64 limit, f64 value, u8 has message (0/1),
//              [u32 message length, UTF-8 bytes, when has message]
//   signal     name instrument, u8 side, f64 strength, i64 reference price
//   system     name component (<= 21)
// Prices, quantities and money are their raw fixed-point counts (1e-9 units, fixed_point.hpp);
// enumerations are their underlying values (payloads.hpp). The body ends with the payload: a
// body longer or shorter than its fields is corrupt.
//
// Reading: a record whose 12 header bytes or body run past the end of the file, a record failing
// its checksum with nothing but zero bytes after it, or zero bytes to the end of the file where a
// record should start, is a torn tail (a write cut short by a crash, or a file whose size a
// crash made durable before its data): a writer truncates it before appending. A bad record with
// other data after it is corruption. A segment closed cleanly ends with its last record.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace libra::journal_format {

/// The segment file's first 8 bytes.
inline constexpr std::array<char, 8> magic{'L', 'I', 'B', 'R', 'A', 'J', 'N', 'L'};
/// The version this libra writes and the newest it reads.
inline constexpr std::uint16_t format_version = 1;
/// Bytes of the segment header.
inline constexpr std::size_t segment_header_size = 64;
/// Bytes before each record's body: length and checksum.
inline constexpr std::size_t record_header_size = 12;
/// The smallest body: the fixed fields, an empty source and the smallest payload (system: empty).
inline constexpr std::size_t min_body_size = 46;
/// The largest body a reader accepts (an order book of ~4M levels); larger is corruption.
inline constexpr std::size_t max_body_size = std::size_t{64} << 20;
/// Record flag: a parent span id follows the span id.
inline constexpr std::uint8_t flag_parent_span = 0x01;
/// Segment files' extension.
inline constexpr const char* segment_extension = ".journal";

} // namespace libra::journal_format
