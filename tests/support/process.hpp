// Runs libra-runtime as a child process for end-to-end tests: exit code, stdout, stderr, and a
// way to wait for a line (a deterministic hook for "it is running now") before signalling it.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <poll.h>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace libra::testing {

class child_process {
public:
  explicit child_process(std::vector<std::string> argv) {
    int out[2];
    int err[2];
    if (pipe(out) != 0 || pipe(err) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      std::vector<char*> args;
      for (auto& a : argv)
        args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_fd_);
    close(err_fd_);
  }

  /// Reads output until `needle` appears on stderr or stdout (true), or the timeout/EOF.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_.find(needle) == std::string::npos && err_.find(needle) == std::string::npos) {
      const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !pump(static_cast<int>(left.count())))
        return false;
    }
    return true;
  }

  void signal(int sig) { kill(pid_, sig); }

  /// Reads everything to EOF and returns the exit code (-signal when killed by one). A child still
  /// running at the timeout is killed (-9): a hung runtime fails its test instead of hanging it.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds{90}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto left = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    };
    while (!(out_eof_ && err_eof_) && left() > 0)
      pump(static_cast<int>(left()));
    int status = 0;
    // Its pipes closed, it may still be running (or never closed them): reap it by the deadline.
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (left() <= 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      usleep(1000);
    }
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  /// Reads what the child writes for up to timeout; false once both its pipes are closed.
  bool read_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (out_eof_ && err_eof_)
        return false;
      if (left <= 0)
        return true;
      (void)pump(static_cast<int>(left));
    }
  }

private:
  // One poll round; false at EOF on both pipes or on timeout.
  bool pump(int timeout_ms) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (out_eof_ && err_eof_)
      return false;
    const int n = poll(fds, 2, timeout_ms);
    if (n <= 0)
      return false;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP)) == 0)
        continue;
      const auto got = read(fds[i].fd, buf, sizeof buf);
      auto& eof = i == 0 ? out_eof_ : err_eof_;
      if (got <= 0)
        eof = true;
      else
        (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(got));
    }
    return !(out_eof_ && err_eof_);
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool out_eof_ = false;
  bool err_eof_ = false;
  bool exited_ = false;
  std::string out_;
  std::string err_;
};

/// How a child ended: its exit code and all it wrote.
struct run_output {
  int rc = 0;
  std::string out;
  std::string err;
};

/// Runs argv to its end (child_process::wait's deadline) and returns what it did.
inline run_output run_process(std::vector<std::string> argv) {
  child_process p{std::move(argv)};
  const int rc = p.wait();
  return {rc, p.out(), p.err()};
}

/// The lines of a run's summary about what was traded (events, orders, risk, positions, PnL,
/// failures): not wall time, rates or latencies, which are the machine's.
inline std::string summary_trading_lines(const std::string& summary) {
  std::istringstream in{summary};
  std::string out;
  for (std::string line; std::getline(in, line);)
    for (const char* prefix : {"events by type", "events ", "orders ", "risk events", "position ", "PnL ", "failures "})
      if (line.rfind(prefix, 0) == 0) {
        out += line + "\n";
        break;
      }
  return out;
}

/// Waits for several children at once, reading all their pipes meanwhile: waiting for one while
/// another fills its pipe (64 KiB of log lines) would stall that one, and with it a run that
/// needs both (nodes of one topology). Exit codes in the children's order.
inline std::vector<int> wait_all(std::initializer_list<child_process*> children,
                                 std::chrono::milliseconds timeout = std::chrono::seconds{90}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool open = true;
  while (open && std::chrono::steady_clock::now() < deadline) {
    open = false;
    for (auto* c : children)
      open = c->read_for(std::chrono::milliseconds{20}) || open;
  }
  std::vector<int> rcs;
  for (auto* c : children) {
    const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    rcs.push_back(c->wait(std::max(left, std::chrono::milliseconds{1})));
  }
  return rcs;
}

/// The number after `label ` in libra-runtime's summary (thousands separators dropped), or
/// UINT64_MAX when the line is missing.
inline std::uint64_t summary_field(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex{label + " +([0-9,]+)"}))
    return UINT64_MAX;
  auto digits = m[1].str();
  std::erase(digits, ',');
  return std::stoull(digits);
}

/// The counts of the first `events by type` line in libra-runtime's summary, by type name; empty
/// when there is no such line.
inline std::map<std::string, std::uint64_t> summary_type_counts(const std::string& text) {
  std::map<std::string, std::uint64_t> counts;
  std::smatch m;
  if (!std::regex_search(text, m, std::regex{"events by type +(.*)"}))
    return counts;
  const auto line = m[1].str();
  const std::regex pair{"([A-Z_]+)=([0-9]+)"};
  for (auto it = std::sregex_iterator(line.begin(), line.end(), pair); it != std::sregex_iterator(); ++it)
    counts[(*it)[1]] = std::stoull((*it)[2]);
  return counts;
}

} // namespace libra::testing
