// Everything an actor author needs, in one include: the event model, the bus, the actor SDK that
// libra-runtime launches from a topology (registry, params, context), and the small utilities
// actors share (JSON lines, rate-limited logging, output files, quoting input in messages).
#pragma once

#include <libra/actor.hpp>
#include <libra/actor_registry.hpp>
#include <libra/bus.hpp>
#include <libra/bus_config.hpp>
#include <libra/bus_stats.hpp>
#include <libra/config_error.hpp>
#include <libra/delivery.hpp>
#include <libra/event.hpp>
#include <libra/event_type.hpp>
#include <libra/fixed_point.hpp>
#include <libra/handler.hpp>
#include <libra/json.hpp>
#include <libra/log.hpp>
#include <libra/output_file.hpp>
#include <libra/params.hpp>
#include <libra/payloads.hpp>
#include <libra/publish_result.hpp>
#include <libra/report.hpp>
#include <libra/symbol.hpp>
#include <libra/system_config.hpp>
#include <libra/text.hpp>
#include <libra/trace_context.hpp>
