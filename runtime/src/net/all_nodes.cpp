#include "all_nodes.hpp"

#include <libra/event_type.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

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

/// What the combined summary takes from a node's last --stats-json line.
struct node_figures {
  std::array<std::uint64_t, event_type_count> seen{};     ///< by_type
  std::array<std::uint64_t, event_type_count> received{}; ///< net.received_by_type
  std::vector<std::string> actor_lines;                   ///< each actor's summary lines, in order
  std::string reason = "no summary";
};

/// Reads a node's last --stats-json line with yaml-cpp (a JSON line is a YAML flow mapping); the
/// defaults when the node wrote none or it does not parse.
node_figures read_node_figures(const std::filesystem::path& p) {
  node_figures out;
  std::ifstream in{p};
  std::string last;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      last = std::move(line);
  if (last.empty())
    return out;
  auto counts = [](const YAML::Node& n, std::array<std::uint64_t, event_type_count>& into) {
    if (n.IsMap())
      for (auto t : all_event_types)
        into.at(static_cast<std::size_t>(t)) = n[std::string{to_string(t)}].as<std::uint64_t>(0);
  };
  try {
    const auto stats = YAML::Load(last);
    if (const auto n = stats["by_type"])
      counts(n, out.seen);
    if (const auto net = stats["net"])
      if (const auto n = net["received_by_type"])
        counts(n, out.received);
    if (const auto actors = stats["actors"])
      for (const auto& actor : actors)
        if (const auto lines = actor.second["summary"])
          for (const auto& l : lines)
            out.actor_lines.push_back(l.as<std::string>());
    if (const auto r = stats["reason"]; r && r.IsScalar())
      out.reason = r.as<std::string>();
  } catch (const YAML::Exception&) { // not what a node writes: nothing more of it is used
  }
  return out;
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
    auto f = read_node_figures(c.stats);
    for (std::size_t i = 0; i < origin.size(); ++i)
      origin.at(i) += f.seen.at(i) >= f.received.at(i) ? f.seen.at(i) - f.received.at(i) : 0;
    for (auto& l : f.actor_lines)
      actor_lines.push_back(std::move(l));
    fmt::print("node {:<14} exit {} ({})\n", c.name, c.status, f.reason);
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
