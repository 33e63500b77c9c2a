// Runs one of the plotting scripts in scripts/ on a results folder. Plots
// are optional: a machine without matplotlib loses the figure, not the
// results, so a failure is a warning.
#pragma once

#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "src/source_dir.h"

namespace hqrn {

inline void run_plot_script(const std::string& script, const std::string& folder) {
  const auto cmd = fmt::format("/usr/bin/python3 '{}/scripts/{}' '{}'", kSourceDir, script, folder);
  if (std::system(cmd.c_str()) != 0) fmt::print(stderr, "warning: plotting failed (needs python3-matplotlib)\n");
}

}  // namespace hqrn
