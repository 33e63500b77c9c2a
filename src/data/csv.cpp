#include "src/data/csv.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace hqrn::data {
namespace {

std::string read_file_text(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw std::runtime_error(fmt::format("{}: cannot open ({})", path, std::strerror(errno)));
  }
  std::string text;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  // A truncated gzip stream ends with n == 0 and only gzerror tells.
  int error_code = Z_OK;
  std::string reason = gzerror(file, &error_code);
  const std::string prefix = path + ": ";  // zlib starts its messages with the path
  if (reason.compare(0, prefix.size(), prefix) == 0) reason.erase(0, prefix.size());
  gzclose(file);
  if (n < 0 || error_code != Z_OK) {
    throw std::runtime_error(fmt::format("{}: cannot read ({})", path, reason));
  }
  return text;
}

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// from_chars is locale-independent and exact; it rejects a leading '+', which
// other writers may emit, so that is skipped here.
double parse_field(const std::string& path, int64_t line, int64_t field_index, std::string_view field) {
  if (field.empty()) throw_at_line(path, line, fmt::format("field {} is empty", field_index));
  std::string_view digits = field;
  if (digits.front() == '+') digits.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    throw_at_line(path, line, fmt::format("field {} ('{}') is not a number", field_index, field));
  }
  if (!std::isfinite(value)) {
    throw_at_line(path, line, fmt::format("field {} ('{}') is not finite", field_index, field));
  }
  return value;
}

}  // namespace

void throw_at_line(const std::string& path, int64_t line, const std::string& problem) {
  throw std::runtime_error(fmt::format("{}:{}: {}", path, line, problem));
}

NumericTable read_numeric_csv(const std::string& path) {
  const std::string text = read_file_text(path);
  NumericTable table;
  table.path = path;
  int64_t line = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t stop = text.find('\n', start);
    if (stop == std::string::npos) stop = text.size();
    const std::string_view row = trim(std::string_view(text).substr(start, stop - start));
    start = stop + 1;
    ++line;
    if (row.empty()) continue;

    int64_t fields = 0;
    size_t field_start = 0;
    while (true) {
      const size_t comma = row.find(',', field_start);
      const size_t field_end = comma == std::string_view::npos ? row.size() : comma;
      ++fields;
      table.values.push_back(parse_field(path, line, fields, trim(row.substr(field_start, field_end - field_start))));
      if (comma == std::string_view::npos) break;
      field_start = comma + 1;
    }
    if (table.line_numbers.empty()) {
      table.cols = fields;
    } else if (fields != table.cols) {
      throw_at_line(path, line,
                    fmt::format("{} fields, but line {} has {} (every row must have the same number of fields)",
                                fields, table.line_numbers.front(), table.cols));
    }
    table.line_numbers.push_back(line);
  }
  if (table.line_numbers.empty()) throw std::runtime_error(fmt::format("{}: empty file (no data rows)", path));
  return table;
}

int64_t label_at(const NumericTable& table, int64_t row, int64_t col) {
  const double value = table.at(row, col);
  const int64_t line = table.line_numbers[static_cast<size_t>(row)];
  if (value != std::floor(value)) {
    throw_at_line(table.path, line, fmt::format("label {} (field {}) is not an integer", value, col + 1));
  }
  if (value < 0) throw_at_line(table.path, line, fmt::format("label {} (field {}) is negative", value, col + 1));
  // Beyond 2^53 doubles no longer hold every integer.
  if (value > 9007199254740992.0) {
    throw_at_line(table.path, line, fmt::format("label {} (field {}) is too large", value, col + 1));
  }
  return static_cast<int64_t>(value);
}

void write_file_atomically(const std::string& path, const std::string& text) {
  static std::atomic<uint64_t> counter{0};
  const std::string temp_path = fmt::format("{}.tmp.{}.{}", path, ::getpid(), counter++);
  // 0666 before the umask, like any ordinary new file (mkstemp would force 0600).
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot create ({})", temp_path, std::strerror(errno)));

  bool ok = true;
  const bool gzip = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gzip) {
    gzFile file = gzdopen(fd, "wb");  // takes ownership of fd
    ok = file != nullptr;
    for (size_t done = 0; ok && done < text.size();) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(text.size() - done, 1 << 20));
      ok = gzwrite(file, text.data() + done, chunk) == static_cast<int>(chunk);
      done += chunk;
    }
    if (file != nullptr) {
      ok = (gzflush(file, Z_FINISH) == Z_OK) && (::fsync(fd) == 0) && ok;
      ok = (gzclose(file) == Z_OK) && ok;
    } else {
      ::close(fd);
    }
  } else {
    for (size_t done = 0; ok && done < text.size();) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
    ok = (::fsync(fd) == 0) && ok;
    ok = (::close(fd) == 0) && ok;
  }
  if (!ok || ::rename(temp_path.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp_path.c_str());
    throw std::runtime_error(fmt::format("{}: cannot write ({})", path, reason));
  }
}

}  // namespace hqrn::data
