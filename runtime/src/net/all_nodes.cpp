#include "all_nodes.hpp"

#include <libra/event_type.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace libra::net {

namespace {

struct child {
  std::string name;
  pid_t pid = -1;
  int out = -1; ///< its stdout (read end)
  int err = -1; ///< its stderr (read end)
  int status = -1;
  bool exited = false;
  std::filesystem::path stats;
};

/// The number after `"key":` at or after `from` in a JSON line; nullopt when absent.
std::optional<double> json_number(const std::string& text, std::string_view key, std::size_t from = 0) {
  const auto needle = fmt::format("\"{}\":", key);
  const auto at = text.find(needle, from);
  if (at == std::string::npos)
    return std::nullopt;
  const char* start = text.c_str() + at + needle.size();
  char* end = nullptr;
  const double v = std::strtod(start, &end);
  if (end == start)
    return std::nullopt;
  return v;
}

/// Counts per event type from the object that follows `"object":{` in a JSON line.
std::array<std::uint64_t, event_type_count> type_counts(const std::string& text, std::string_view object) {
  std::array<std::uint64_t, event_type_count> out{};
  const auto at = text.find(fmt::format("\"{}\":{{", object));
  if (at == std::string::npos)
    return out;
  for (auto t : all_event_types)
    if (auto v = json_number(text, to_string(t), at))
      out.at(static_cast<std::size_t>(t)) = static_cast<std::uint64_t>(*v);
  return out;
}

/// The JSON string starting at text[at] (a quote), decoded; `at` moves past it. What
/// libra::json_writer escapes: \" \\ \n \r \t \b \f and \u00XX.
std::string json_string_at(const std::string& text, std::size_t& at) {
  std::string out;
  for (++at; at < text.size() && text[at] != '"'; ++at) {
    if (text[at] != '\\' || at + 1 >= text.size()) {
      out += text[at];
      continue;
    }
    switch (text[++at]) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u':
        if (at + 4 < text.size()) {
          out += static_cast<char>(std::stoi(text.substr(at + 1, 4), nullptr, 16) & 0x7f);
          at += 4;
        }
        break;
      default: // " \ /
        out += text[at];
    }
  }
  ++at;
  return out;
}

/// The actors' summary lines in a --stats-json line (`"summary":["...", ...]` of each actor), in order.
std::vector<std::string> actor_summary_lines(const std::string& text) {
  std::vector<std::string> out;
  const std::string key = R"("summary":[)";
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
    at += key.size();
    while (at < text.size() && text[at] == '"') {
      out.push_back(json_string_at(text, at));
      if (at < text.size() && text[at] == ',')
        ++at;
    }
  }
  return out;
}

std::string last_line(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::string line;
  std::string last;
  while (std::getline(in, line))
    if (!line.empty())
      last = line;
  return last;
}

/// Copies a child's output line by line to `to`, each line prefixed with `[name] `.
void pump(int fd, std::FILE* to, const std::string& name, std::mutex& mu) {
  std::string buf;
  std::array<char, 4096> chunk{};
  auto emit = [&](std::string_view line) {
    std::lock_guard guard{mu};
    fmt::print(to, "[{}] {}\n", name, line);
    std::fflush(to);
  };
  for (;;) {
    const auto n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    buf.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t pos = 0;
    for (auto nl = buf.find('\n', pos); nl != std::string::npos; nl = buf.find('\n', pos)) {
      emit(std::string_view{buf}.substr(pos, nl - pos));
      pos = nl + 1;
    }
    buf.erase(0, pos);
  }
  if (!buf.empty())
    emit(buf);
  ::close(fd);
}

sigset_t forwarded_signals() {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1})
    sigaddset(&s, sig);
  return s;
}

} // namespace

int run_all_nodes(const core::topology& topo, const std::string& topology_file,
                  const std::vector<std::string>& child_args) {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    fmt::print(stderr, "libra-runtime: error: --all-nodes: cannot find this program's path: {}\n", ec.message());
    return 1;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "libra-all-nodes-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    fmt::print(stderr, "libra-runtime: error: --all-nodes: cannot create a temporary directory: {}\n",
               std::strerror(errno));
    return 1;
  }
  const std::filesystem::path tmp{tmpl};

  // Signals are taken by a thread of ours (sigwait) and forwarded: the children run in their own
  // process groups, so a Ctrl-C reaches them once, through us, not twice (a second signal would
  // make a node exit without its drain).
  const auto sigs = forwarded_signals();
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  std::vector<child> children;
  for (const auto& n : topo.network.nodes) {
    child c;
    c.name = n.name;
    c.stats = tmp / (n.name + ".jsonl");
    std::vector<std::string> args{exe.string(), topology_file, "--node", n.name, "--stats-json", c.stats.string()};
    args.insert(args.end(), child_args.begin(), child_args.end());
    std::array<int, 2> out{};
    std::array<int, 2> err{};
    if (::pipe2(out.data(), O_CLOEXEC) != 0 || ::pipe2(err.data(), O_CLOEXEC) != 0) {
      fmt::print(stderr, "libra-runtime: error: --all-nodes: pipe: {}\n", std::strerror(errno));
      return 1;
    }
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      fmt::print(stderr, "libra-runtime: error: --all-nodes: fork: {}\n", std::strerror(errno));
      return 1;
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      sigset_t none;
      sigemptyset(&none);
      pthread_sigmask(SIG_SETMASK, &none, nullptr);
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    c.pid = pid;
    c.out = out[0];
    c.err = err[0];
    children.push_back(std::move(c));
  }

  std::mutex out_mu;
  std::vector<std::thread> pumps;
  for (auto& c : children) {
    pumps.emplace_back(pump, c.out, stdout, c.name, std::ref(out_mu));
    pumps.emplace_back(pump, c.err, stderr, c.name, std::ref(out_mu));
  }
  std::mutex kids_mu;
  auto signal_all = [&](int sig) {
    std::lock_guard guard{kids_mu};
    for (const auto& c : children)
      if (!c.exited)
        ::kill(c.pid, sig);
  };
  std::thread forwarder{[&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&sigs, &sig) != 0 || sig == SIGUSR1)
        return;
      signal_all(sig);
    }
  }};

  int rc = 0;
  std::string first_failure;
  for (std::size_t left = children.size(); left > 0; --left) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) {
        ++left;
        continue;
      }
      break;
    }
    bool failed = false;
    {
      std::lock_guard guard{kids_mu};
      for (auto& c : children)
        if (c.pid == pid) {
          c.exited = true;
          c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          if (c.status != 0 && rc == 0) {
            rc = c.status;
            first_failure = c.name;
            failed = true;
          }
        }
    }
    if (failed) {
      // One node failed: the run cannot complete; the others drain and stop.
      fmt::print(stderr, "libra-runtime: node '{}' exited with {}: stopping the other nodes\n", first_failure, rc);
      signal_all(SIGTERM);
    }
  }
  pthread_kill(forwarder.native_handle(), SIGUSR1);
  forwarder.join();
  for (auto& t : pumps)
    t.join();

  // The combined summary: each event counted on the node that published it (what a node's bus
  // saw minus what its links received).
  std::array<std::uint64_t, event_type_count> origin{};
  std::vector<std::string> actor_lines; // what each node's actors reported, node by node
  fmt::print("\n== libra-runtime --all-nodes summary: {} ({} nodes) ==\n", topology_file, children.size());
  for (const auto& c : children) {
    const auto line = last_line(c.stats);
    const auto seen = type_counts(line, "by_type");
    const auto received = type_counts(line, "received_by_type");
    for (std::size_t i = 0; i < origin.size(); ++i)
      origin.at(i) += seen.at(i) >= received.at(i) ? seen.at(i) - received.at(i) : 0;
    for (auto& l : actor_summary_lines(line))
      actor_lines.push_back(std::move(l));
    std::string reason = "no summary";
    if (const auto at = line.find(R"("reason":")"); at != std::string::npos)
      reason = line.substr(at + 10, line.find('"', at + 10) - at - 10);
    fmt::print("node {:<14} exit {} ({})\n", c.name, c.status, reason);
  }
  fmt::print("events by type    ");
  for (auto t : all_event_types)
    if (auto n = origin.at(static_cast<std::size_t>(t)); n > 0)
      fmt::print(" {}={}", to_string(t), n);
  fmt::print("\norders             new {}, filled {}, rejected {}\n",
             origin.at(static_cast<std::size_t>(event_type::order_new)),
             origin.at(static_cast<std::size_t>(event_type::order_filled)),
             origin.at(static_cast<std::size_t>(event_type::order_rejected)));
  for (const auto& l : actor_lines) // the risk engine's decisions, the venue's fills, positions and PnL
    fmt::print("{}\n", l);
  fmt::print("nodes              {} ran, {} failed\n", children.size(),
             std::count_if(children.begin(), children.end(), [](const child& c) { return c.status != 0; }));
  std::fflush(stdout);
  std::filesystem::remove_all(tmp, ec);
  return rc;
}

} // namespace libra::net
