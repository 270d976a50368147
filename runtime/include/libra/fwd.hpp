// Forward declarations of the SDK's types, for headers that name them without using them
// (as caf/fwd.hpp does for CAF). Include the type's own header (or libra/libra.hpp) to use it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace libra {

// event model (libra/event_type.hpp, event.hpp, payloads.hpp, symbol.hpp, fixed_point.hpp)
enum class priority : std::uint8_t;
enum class event_type : std::uint8_t;
enum class payload_kind : std::uint8_t;
class event;
struct trace_id;
struct span_id;
struct trace_context;
template <std::size_t Size>
class fixed_name;
using instrument_id = fixed_name<16>;
using source_id = fixed_name<22>;
template <class Tag>
class fixed_decimal;
struct price_tag;
struct quantity_tag;
struct money_tag;
using price = fixed_decimal<price_tag>;
using quantity = fixed_decimal<quantity_tag>;
using money = fixed_decimal<money_tag>;
struct tick;
struct bar;
struct order_book;
struct order;
struct fill;
struct position;
struct risk;
struct signal;
struct system;

// the bus (libra/bus.hpp, bus_config.hpp, bus_stats.hpp, handler.hpp, publish_result.hpp)
class bus;
class publisher;
class bus_error;
struct bus_config;
struct bus_stats;
struct latency_summary;
class handler;
class delivery;
enum class publish_status : std::uint8_t;
class publish_result;
struct publish_many_result;

// actors run by libra-runtime (libra/actor_registry.hpp, params.hpp, config_error.hpp)
class params;
class config_error;
struct actor_context;
struct actor_type_info;
class actor_registry;
class actor_directory;

} // namespace libra
