// Assertions on errors shared by every test suite.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace hqrn::test {

// Runs fn and checks that it throws Exception whose what() contains every
// one of `parts`.
template <typename Exception>
::testing::AssertionResult throws_with(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const Exception& e) {
    const std::string message = e.what();
    for (const auto& part : parts) {
      if (message.find(part) == std::string::npos) {
        return ::testing::AssertionFailure() << "message lacks '" << part << "': " << message;
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace hqrn::test
