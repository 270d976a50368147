// The commit of this build, from the header runtime/CMakeLists.txt regenerates at every build (a
// value taken at configure time named the wrong commit once a tree was rebuilt after a commit).
#include "commit.hpp"

#include <libra_version_info.hpp>

namespace libra::bench {

const char* build_commit() noexcept { return LIBRA_GIT_COMMIT; }

} // namespace libra::bench
