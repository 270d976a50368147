// A journal on a full disk, as a user meets it: a 512 KiB tmpfs fills during the run; the run
// stops with an error naming the journal, exits 1, and the journal verifies up to its last
// complete record. Needs root (mount); skipped with a message otherwise.
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

using libra::testing::child_process;
using libra::testing::temp_dir;

/// A tmpfs of `size` mounted at dir for the guard's lifetime; mounted() false when not permitted.
class tmpfs_mount {
public:
  tmpfs_mount(const std::filesystem::path& dir, const std::string& size) : dir_{dir} {
    std::filesystem::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;
  ~tmpfs_mount() {
    if (mounted_)
      ::umount2(dir_.c_str(), MNT_DETACH);
  }
  [[nodiscard]] bool mounted() const noexcept { return mounted_; }

private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

} // namespace

TEST_CASE("a journal on a full disk stops the run with an error naming it, and verifies", "[journal][process][disk]") {
  temp_dir dir;
  const auto mnt = dir.path() / "small";
  tmpfs_mount fs{mnt, "512k"};
  if (!fs.mounted()) {
    WARN("skipped: cannot mount a tmpfs at " << mnt << " (needs root and CAP_SYS_ADMIN)");
    return;
  }
  const auto jdir = mnt / "journal";
  const auto topo = dir.path() / "fill.yaml";
  // ~120 bytes a tick: 200k ticks are ~24 MB, far past 512 KiB.
  std::ofstream{topo} << "bus: {capacity: 20000, drain_timeout_ms: 5000}\n"
                      << "logging: {level: warn}\n"
                      << "journal: {dir: " << jdir.string() << "}\n"
                      << "actors:\n"
                      << "  - {name: gw, type: gateway.synthetic, params: {instrument: EUR/USD, seed: 7, rate: 0, "
                         "count: 200000}}\n";
  child_process p{{LIBRA_RUNTIME_BIN, topo.string(), "--no-progress"}};
  const int rc = p.wait();
  INFO(p.out() << p.err());
  CHECK(rc == 1);
  const auto all = p.out() + p.err();
  CHECK_THAT(all, Catch::Contains("journal '" + jdir.string() + "': writing '")
                    && Catch::Contains("No space left on device"));

  child_process v{{LIBRA_JOURNAL_BIN, "verify", jdir.string()}};
  const int vrc = v.wait();
  INFO(v.out() << v.err());
  CHECK(vrc == 0); // cut back to the last complete record: no torn tail
  CHECK_THAT(v.out(), Catch::Contains(": OK ("));
}
