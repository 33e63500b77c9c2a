// The strict safetensors reader against hand-built files: what the format
// allows round-trips, every violation is refused with a message naming the
// source and the problem. Files are assembled byte by byte here, independent
// of serialize(), so a bug shared by writer and reader cannot hide.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "src/safetensors.h"

namespace st = hqrn::safetensors;

namespace {

std::string le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// A file with this header text and `data_bytes` bytes of data.
std::string file_with(const std::string& header, size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\x01');
}

// The error message of parsing `bytes`, or "" when it parses.
std::string error_of(const std::string& bytes) {
  try {
    st::parse(bytes, "f.safetensors");
  } catch (const st::FormatError& e) {
    return e.what();
  }
  return "";
}

void expect_refused(const std::string& bytes, const std::vector<std::string>& words) {
  const auto message = error_of(bytes);
  ASSERT_FALSE(message.empty()) << "accepted: " << bytes.substr(8, 200);
  EXPECT_EQ(message.rfind("f.safetensors: ", 0), 0u) << message;
  for (const auto& w : words) EXPECT_NE(message.find(w), std::string::npos) << "'" << w << "' not in: " << message;
}

}  // namespace

TEST(Safetensors, ReadsWhatTheFormatAllows) {
  // Two tensors, out of order in the header, metadata, header padded with spaces.
  const std::string header =
      R"({"b":{"dtype":"I64","shape":[],"data_offsets":[24,32]},"__metadata__":{"format":"hqrn"},)"
      R"("a":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},"e":{"dtype":"F32","shape":[0,5],"data_offsets":[32,32]}}   )";
  std::string data;
  for (double v : {1.5, -2.0, 0.25}) data += std::string(reinterpret_cast<const char*>(&v), 8);  // little-endian host
  const int64_t seven = 7;
  data += std::string(reinterpret_cast<const char*>(&seven), 8);
  const auto file = st::parse(le64(header.size()) + header + data, "f");
  ASSERT_EQ(file.tensors.size(), 3u);
  EXPECT_EQ(file.tensors[0].name, "a");
  EXPECT_EQ(file.tensors[0].shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(file.tensors[1].name, "b");
  EXPECT_TRUE(file.tensors[1].shape.empty());
  EXPECT_EQ(file.tensors[2].shape, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(file.metadata.at("format"), "hqrn");
  double second = 0;
  std::memcpy(&second, file.bytes(file.tensor("a")).data() + 8, 8);
  EXPECT_EQ(second, -2.0);
  EXPECT_EQ(file.bytes(file.tensor("b")), std::string(reinterpret_cast<const char*>(&seven), 8));
}

TEST(Safetensors, SerializeRoundTripsAndAlignsTheData) {
  std::vector<st::TensorBytes> tensors = {{"w", "F64", {2, 2}, std::string(32, '\x02')},
                                          {"s", "I64", {}, std::string(8, '\x03')},
                                          {"z", "F32", {0}, ""}};
  const auto bytes = st::serialize({{"kind", "hqrn"}, {"config", "{\"a\": 1}"}}, tensors);
  uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  EXPECT_EQ((8 + header) % 8, 0u);
  const auto file = st::parse(bytes, "round");
  EXPECT_EQ(file.metadata.at("config"), "{\"a\": 1}");
  ASSERT_EQ(file.tensors.size(), 3u);
  EXPECT_EQ(file.bytes(file.tensor("w")), tensors[0].bytes);
  EXPECT_EQ(file.bytes(file.tensor("s")), tensors[1].bytes);
  EXPECT_EQ(file.tensor("z").begin, file.tensor("z").end);
  EXPECT_THROW(st::serialize({}, {{"w", "F64", {3}, std::string(16, 'x')}}), std::invalid_argument);
  EXPECT_THROW(st::serialize({}, {{"w", "C99", {1}, "x"}}), std::invalid_argument);
  EXPECT_THROW(st::serialize({}, {{"w", "U8", {1}, "x"}, {"w", "U8", {1}, "y"}}), std::invalid_argument);
}

TEST(Safetensors, RefusesBadFraming) {
  expect_refused("", {"shorter"});
  expect_refused(std::string("\x05\x00\x00", 3), {"shorter"});
  expect_refused(le64(uint64_t{1} << 40) + "{}", {"over the limit"});
  expect_refused(le64(~uint64_t{0}) + "{}", {"over the limit"});
  expect_refused(le64(100) + "{}", {"truncated", "100"});
  expect_refused(file_with("[]", 0), {"start with '{'"});
  expect_refused(file_with(" {}", 0), {"start with '{'"});
  expect_refused(file_with("{\"a\":", 0), {"JSON"});
  expect_refused(file_with("{\"a\xff\":1}", 0), {"JSON"});                 // not UTF-8
  expect_refused(file_with("{\"a\":1} x", 0), {"JSON"});
  expect_refused(file_with("{\"a\":[[[[[[1]]]]]]}", 0), {"deeper"});
  expect_refused(file_with(std::string("{\"a\":") + std::string(100000, '[') + "}", 0), {"deeper"});
}

TEST(Safetensors, RefusesBadEntries) {
  const auto entry = [](const std::string& body) { return "{\"t\":{" + body + "}}"; };
  expect_refused(file_with(R"({"t":1})", 0), {"tensor 't'", "object"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1])"), 8), {"data_offsets"});
  expect_refused(file_with(entry(R"("shape":[1],"data_offsets":[0,8])"), 8), {"dtype"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1],"data_offsets":[0,8],"x":1)"), 8), {"unknown field 'x'"});
  expect_refused(file_with(entry(R"("dtype":"C128","shape":[1],"data_offsets":[0,16])"), 16), {"unknown dtype 'C128'"});
  expect_refused(file_with(entry(R"("dtype":7,"shape":[1],"data_offsets":[0,8])"), 8), {"dtype"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[-1],"data_offsets":[0,8])"), 8), {"non-negative", "-1"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1.5],"data_offsets":[0,8])"), 8), {"non-negative"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":"1","data_offsets":[0,8])"), 8), {"shape"});
  // Products that overflow 64 bits, with and without a zero dimension.
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8])"), 8),
                 {"larger than", "4294967296"});
  expect_refused(file_with(entry(R"("dtype":"U8","shape":[0,18446744073709551615],"data_offsets":[0,0])"), 0),
                 {"larger than"});
  expect_refused(file_with(entry(R"("dtype":"U8","shape":[99999999999999999999999],"data_offsets":[0,0])"), 0),
                 {"non-negative"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[2],"data_offsets":[0,8])"), 16), {"span 8 bytes", "16"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[2],"data_offsets":[0,16])"), 8), {"more bytes than"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1],"data_offsets":[8,0])"), 8), {"outside"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1],"data_offsets":[0,16])"), 8), {"outside"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1],"data_offsets":[0])"), 8), {"[begin, end]"});
  expect_refused(file_with(entry(R"("dtype":"F64","shape":[1],"data_offsets":[0,-8])"), 8), {"non-negative"});
  expect_refused(file_with(entry(R"("dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,8])"), 8), {"twice"});
  expect_refused(file_with(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1), {"empty name"});
  expect_refused(file_with(R"({"__metadata__":{"a":1}})", 0), {"__metadata__", "string"});
  expect_refused(file_with(R"({"__metadata__":[]})", 0), {"__metadata__"});
}

TEST(Safetensors, RefusesDataThatIsNotTiledExactly) {
  const auto two = [](const std::string& a, const std::string& b) {
    return R"({"a":{"dtype":"U8","shape":[4],"data_offsets":)" + a + R"(},"b":{"dtype":"U8","shape":[4],"data_offsets":)" +
           b + "}}";
  };
  EXPECT_EQ(error_of(file_with(two("[0,4]", "[4,8]"), 8)), "");
  expect_refused(file_with(two("[0,4]", "[2,6]"), 8), {"overlaps"});
  expect_refused(file_with(two("[0,4]", "[0,4]"), 8), {"overlaps"});
  expect_refused(file_with(two("[0,4]", "[6,10]"), 10), {"gap", "'b'"});
  expect_refused(file_with(two("[4,8]", "[8,12]"), 12), {"gap", "'a'"});
  expect_refused(file_with(two("[0,4]", "[4,8]"), 9), {"1 bytes after"});
  expect_refused(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2),
                 {"'a' twice"});
  expect_refused(file_with("{}", 3), {"3 bytes after"});
}

TEST(Safetensors, Sha256MatchesKnownVectors) {
  EXPECT_EQ(st::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(st::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
