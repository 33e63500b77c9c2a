// The one error type of the model layer's bad input (configurations, shapes,
// checkpoints that do not fit a model). The CLI reports it like any
// std::invalid_argument: a message naming the problem, exit code 2.
#pragma once

#include <c10/util/StringUtil.h>

#include <stdexcept>
#include <string>

namespace hqrn {

class InvalidInput : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Raises InvalidInput with the parts streamed together (shapes, dtypes...) unless ok.
template <typename... Parts>
void require(bool ok, const Parts&... parts) {
  if (!ok) throw InvalidInput(c10::str(parts...));
}

}  // namespace hqrn
