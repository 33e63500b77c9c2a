// libFuzzer entry shared by the loader targets: the loaders read files, so
// each input is written to a per-process file first. Any std::exception (the
// loaders' documented way to reject input) is fine; a crash, a sanitizer
// report or a hang is a finding.
#pragma once

#include <unistd.h>

#include <c10/util/Exception.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

namespace hqrn::fuzz {

template <typename Load>
int run_on_file(const uint8_t* data, size_t size, const char* suffix, const Load& load) {
  static const std::string path = "/tmp/hqrn_fuzz_" + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    load(path);
  } catch (const std::exception&) {
  }
  return 0;
}

}  // namespace hqrn::fuzz
