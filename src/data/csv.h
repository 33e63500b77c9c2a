// Numeric CSV reading shared by every HQRN data format: one place that reads
// (optionally gzip-compressed) text, splits lines, parses numbers and reports
// errors as "file:line: problem".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hqrn::data {

// A rectangular table of finite numbers read from a CSV file.
struct NumericTable {
  std::string path;
  int64_t cols = 0;
  std::vector<double> values;        // row-major, rows() * cols
  std::vector<int64_t> line_numbers;  // 1-based source line of each row

  int64_t rows() const { return static_cast<int64_t>(line_numbers.size()); }
  double at(int64_t row, int64_t col) const { return values[static_cast<size_t>(row * cols + col)]; }
};

// Reads a comma-separated file of numbers. Files compressed with gzip are
// recognised by their content (zlib reads plain files as they are), so both
// "x.csv" and "x.csv.gz" load. Blank lines are skipped; there is no header.
// Throws std::runtime_error naming the file (and line) when the file is
// missing or unreadable, has no rows, has rows of different lengths, or has a
// field that is not a finite number.
NumericTable read_numeric_csv(const std::string& path);

// The value at (row, col) as a class label: a non-negative integer (written as
// "3" or "3.0"). Throws naming the file and line otherwise.
int64_t label_at(const NumericTable& table, int64_t row, int64_t col);

// Throws std::runtime_error("path:line: problem").
[[noreturn]] void throw_at_line(const std::string& path, int64_t line, const std::string& problem);

// Writes text to a temporary file in the same directory, then renames it over
// path, so readers never see a half-written file. Compresses with gzip when
// path ends in ".gz".
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace hqrn::data
