// recorder: writes chosen event types to a JSON-lines file (one event per line), for inspection
// and later replay. Runs detached: file I/O must not stall a scheduler worker.
#include "../gateway/register.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <fmt/format.h>

#include <fstream>

namespace libra::actors {

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

std::string payload_json(const event& e) {
  return e.visit([](const auto& p) -> std::string {
    using P = std::decay_t<decltype(p)>;
    if constexpr (std::is_same_v<P, tick>)
      return fmt::format(
        R"({{"instrument":{},"bid":"{}","ask":"{}","bid_size":"{}","ask_size":"{}","last":"{}","last_size":"{}"}})",
        json_string(p.instrument.view()), p.bid.to_string(), p.ask.to_string(), p.bid_size.to_string(),
        p.ask_size.to_string(), p.last.to_string(), p.last_size.to_string());
    else if constexpr (std::is_same_v<P, bar>)
      return fmt::format(
        R"({{"instrument":{},"open":"{}","high":"{}","low":"{}","close":"{}","volume":"{}","interval_ns":{}}})",
        json_string(p.instrument.view()), p.open.to_string(), p.high.to_string(), p.low.to_string(),
        p.close.to_string(), p.volume.to_string(), p.interval.count());
    else if constexpr (std::is_same_v<P, order_book_ptr>)
      return fmt::format(R"({{"instrument":{},"bid_levels":{},"ask_levels":{}}})", json_string(p->instrument.view()),
                         p->bids.size(), p->asks.size());
    else if constexpr (std::is_same_v<P, order>)
      return fmt::format(
        R"({{"id":{},"client_id":{},"instrument":{},"side":"{}","type":"{}","qty":"{}","price":"{}","status":"{}","reason":"{}"}})",
        p.id, p.client_id, json_string(p.instrument.view()), to_string(p.sd), to_string(p.type), p.qty.to_string(),
        p.px.to_string(), to_string(p.status), to_string(p.reason));
    else if constexpr (std::is_same_v<P, fill>)
      return fmt::format(R"({{"id":{},"client_id":{},"instrument":{},"side":"{}","price":"{}","qty":"{}","fee":"{}"}})",
                         p.id, p.client_id, json_string(p.instrument.view()), to_string(p.sd), p.px.to_string(),
                         p.qty.to_string(), p.fee.to_string());
    else if constexpr (std::is_same_v<P, position>)
      return fmt::format(R"({{"instrument":{},"qty":"{}","avg_price":"{}","realized_pnl":"{}","unrealized_pnl":"{}"}})",
                         json_string(p.instrument.view()), p.qty.to_string(), p.avg_price.to_string(),
                         p.realized_pnl.to_string(), p.unrealized_pnl.to_string());
    else if constexpr (std::is_same_v<P, risk>)
      return fmt::format(R"({{"rule":"{}","instrument":{},"limit":{},"value":{},"message":{}}})", to_string(p.rule),
                         json_string(p.instrument.view()), p.limit, p.value, json_string(p.text()));
    else if constexpr (std::is_same_v<P, signal>)
      return fmt::format(R"({{"instrument":{},"side":"{}","strength":{},"reference":"{}"}})",
                         json_string(p.instrument.view()), to_string(p.sd), p.strength, p.reference.to_string());
    else
      return fmt::format(R"({{"component":{}}})", json_string(p.component.view()));
  });
}

struct recorder_state {
  recorder_state() = default; // user-declared: see CAF 0.17 notes (stateful_actor init)
  recorder_state(const recorder_state&) = delete;
  recorder_state& operator=(const recorder_state&) = delete;
  // The summary is logged when the state goes (on exit): attached functors run after CAF
  // destroyed the state, so they must not read it.
  ~recorder_state() {
    out.flush();
    if (log)
      log->info("recorder: {} events written to {}", written, path);
  }
  std::shared_ptr<spdlog::logger> log;
  std::string path;
  std::ofstream out;
  std::uint64_t written = 0;
};

caf::behavior recorder(caf::stateful_actor<recorder_state>* self, actor_context ctx, std::string path,
                       std::vector<event_type> types) {
  self->state.out.open(path, std::ios::trunc);
  if (!self->state.out) {
    ctx.log->error("recorder: cannot write '{}'", path);
    ctx.failed(fmt::format("cannot write '{}'", path));
    return {};
  }
  for (auto t : types)
    ctx.bus->subscribe(t, caf::actor{self});
  self->state.log = ctx.log;
  self->state.path = path;
  return {
    on_events([self](const event& e) {
      auto& st = self->state;
      st.out << fmt::format(
        R"({{"type":"{}","priority":"{}","time_ns":{},"source":{},"sequence":{},"trace_id":"{}","span_id":"{}","traceparent":"{}","payload":{}}})",
        to_string(e.type()), to_string(e.priority()), e.time().time_since_epoch().count(),
        json_string(e.source().view()), e.sequence(), e.trace_id().to_hex(), e.span_id().to_hex(),
        e.trace().traceparent(), payload_json(e))
             << '\n';
      ++st.written;
    }),
    [](run_atom) {},
    [](halt_atom) {},
  };
}

} // namespace

actor_type_info recorder_type() {
  return {[](const params& p) -> spawn_fn {
            const auto path = p.require_path("file", false);
            std::vector<event_type> types;
            if (p.has("types")) {
              for (const auto& name : p.require<std::vector<std::string>>("types")) {
                event_type t{};
                if (!from_string(name, t))
                  p.fail("types", fmt::format("unknown event type '{}'", name));
                types.push_back(t);
              }
            } else {
              types.assign(all_event_types.begin(), all_event_types.end());
            }
            return [=](const actor_context& ctx) {
              return ctx.system->spawn<caf::detached>(recorder, ctx, path.string(), types);
            };
          },
          "writes chosen event types to a JSON-lines file", false};
}

} // namespace libra::actors
