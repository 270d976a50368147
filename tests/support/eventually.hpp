// Waiting with a deadline: a regression makes a test fail within seconds, not hang until ctest's
// TIMEOUT (or forever under a plain run of libra-tests).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

namespace libra::testing {

using namespace std::chrono_literals;

/// Generous bound for waits that normally end in microseconds (CI machines stall, sanitizers slow
/// everything down 5-20x).
inline constexpr auto patience = 20s;

/// Polls `condition` until it holds (true) or `timeout` has passed (false): the test REQUIREs the
/// result. The first polls only yield (most conditions hold within microseconds); then it sleeps,
/// doubling up to 1 ms, so a long wait does not take a core from the threads it waits for.
template <class Condition, class Rep = std::chrono::seconds::rep, class Period = std::chrono::seconds::period>
[[nodiscard]] bool eventually(Condition&& condition, std::chrono::duration<Rep, Period> timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds{10};
  for (int polls = 0;; ++polls) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    if (polls < 1000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, 1ms);
    }
  }
}

/// std::latch with a timed wait (std::latch has none): the test REQUIREs wait()'s result, so a
/// thread that never arrives fails the test instead of hanging it.
class countdown {
public:
  explicit countdown(std::ptrdiff_t count) : count_{count} {}
  countdown(const countdown&) = delete;
  countdown& operator=(const countdown&) = delete;

  void count_down() {
    // Notified under the lock: a waiter that returns may destroy this at once (as with std::latch),
    // so nothing may touch it after the unlock.
    std::lock_guard guard{mu_};
    if (count_ > 0)
      --count_;
    cv_.notify_all();
  }
  /// True once the count reached zero; false if `timeout` passed first.
  [[nodiscard]] bool wait(std::chrono::milliseconds timeout = patience) {
    std::unique_lock lock{mu_};
    return cv_.wait_for(lock, timeout, [&] { return count_ == 0; });
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::ptrdiff_t count_;
};

} // namespace libra::testing
