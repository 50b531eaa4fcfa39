#include "cmd/sextant/commands.h"

namespace sextant::cmd {
int Main(int, char**) { return 0; }
}  // namespace sextant::cmd
