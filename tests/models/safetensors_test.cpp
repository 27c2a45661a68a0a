// Unit tests for models/safetensors.h: round trips for every dtype, the on-disk layout, and one test per
// class of bad input (truncation, oversized header, bad offsets, overlaps, unknown dtypes, bad JSON).
#include "models/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "tests/models/test_dir.h"

namespace anvil::safetensors {
namespace fs = std::filesystem;
using testing_util::TempDir;

namespace {

// Builds a raw safetensors file from a header JSON string and a data buffer.
std::string raw_file(const std::string& header, const std::string& data, int64_t claimed_len = -1) {
    uint64_t len = claimed_len < 0 ? header.size() : static_cast<uint64_t>(claimed_len);
    std::string out(8, '\0');
    std::memcpy(out.data(), &len, 8);
    return out + header + data;
}

void write_raw(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
}

// Expects Reader(p) to throw an anvil::Error whose message contains every fragment.
void expect_error(const fs::path& p, std::initializer_list<std::string> fragments) {
    try {
        Reader r(p);
        FAIL() << "no error for " << p;
    } catch (const Error& e) {
        std::string msg = e.what();
        for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
    }
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtype) {
    TempDir dir("st_roundtrip");
    std::vector<std::pair<std::string, at::Tensor>> in;
    const std::vector<at::ScalarType> types = {at::kBool,   at::kByte,     at::kChar,  at::kShort,  at::kUInt16,
                                               at::kHalf,   at::kBFloat16, at::kInt,   at::kUInt32, at::kFloat,
                                               at::kDouble, at::kLong,     at::kUInt64};
    for (auto t : types) {
        at::Tensor v = at::empty({2, 3}, at::TensorOptions().dtype(t));
        auto* bytes = static_cast<unsigned char*>(v.data_ptr());
        for (size_t i = 0; i < v.nbytes(); ++i) bytes[i] = t == at::kBool ? i % 2 : static_cast<unsigned char>(i * 37);
        in.emplace_back(dtype_name(t), v);
    }
    in.emplace_back("scalar", at::scalar_tensor(3.5, at::kFloat));
    in.emplace_back("empty", at::empty({0, 4}, at::kFloat));
    in.emplace_back("strided", at::arange(12, at::kFloat).reshape({3, 4}).t());
    write(dir.path / "a.safetensors", in);

    Reader r(dir.path / "a.safetensors");
    ASSERT_EQ(r.tensors().size(), in.size());
    EXPECT_EQ(r.metadata().at("format"), "pt");
    for (const auto& [name, t] : in) {
        at::Tensor got = r.tensor(name);
        EXPECT_EQ(got.scalar_type(), t.scalar_type()) << name;
        EXPECT_EQ(got.sizes(), t.sizes()) << name;
        at::Tensor expect = t.contiguous();
        EXPECT_EQ(0, std::memcmp(got.data_ptr(), expect.data_ptr(), expect.nbytes())) << name;
        EXPECT_EQ(0, std::memcmp(r.view(name).data_ptr(), expect.data_ptr(), expect.nbytes())) << name;
    }
}

TEST(Safetensors, LayoutMatchesTheSpec) {
    TempDir dir("st_layout");
    write(dir.path / "a.safetensors", {{"w", at::ones({3}, at::kBFloat16)}});
    std::string bytes = read_file(dir.path / "a.safetensors");
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ(n % 8, 0u);
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    EXPECT_EQ(header["__metadata__"]["format"], "pt");
    EXPECT_EQ(header["w"]["dtype"], "BF16");
    EXPECT_EQ(header["w"]["data_offsets"], nlohmann::json({0, 6}));
    EXPECT_EQ(bytes.size(), 8 + n + 6);
}

TEST(Safetensors, WriterRejectsDuplicateNames) {
    TempDir dir("st_dup_write");
    EXPECT_THROW(write(dir.path / "a.safetensors", {{"x", at::ones({1})}, {"x", at::ones({1})}}), Error);
}

TEST(Safetensors, TruncatedFiles) {
    TempDir dir("st_trunc");
    write_raw(dir.path / "short.safetensors", std::string(5, '\0'));
    expect_error(dir.path / "short.safetensors", {"short.safetensors", "truncated"});
    write_raw(dir.path / "hdr.safetensors",
              raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "", 500));
    expect_error(dir.path / "hdr.safetensors", {"hdr.safetensors", "truncated"});
    write_raw(dir.path / "data.safetensors",
              raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(4, '\0')));
    expect_error(dir.path / "data.safetensors", {"data.safetensors", "'a'", "out of range"});
}

TEST(Safetensors, OversizedHeader) {
    TempDir dir("st_big");
    write_raw(dir.path / "big.safetensors", raw_file("{}", "", 200'000'000));
    expect_error(dir.path / "big.safetensors", {"big.safetensors", "cap"});
}

TEST(Safetensors, OutOfRangeAndInconsistentOffsets) {
    TempDir dir("st_offsets");
    const std::string data(16, '\0');
    write_raw(dir.path / "range.safetensors",
              raw_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", data));
    expect_error(dir.path / "range.safetensors", {"range.safetensors", "'w'", "out of range"});
    write_raw(dir.path / "rev.safetensors",
              raw_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", data));
    expect_error(dir.path / "rev.safetensors", {"'w'", "begin"});
    write_raw(dir.path / "size.safetensors",
              raw_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data));
    expect_error(dir.path / "size.safetensors", {"'w'", "needs 12"});
    write_raw(dir.path / "neg.safetensors",
              raw_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", data));
    expect_error(dir.path / "neg.safetensors", {"'w'", "non-negative"});
    write_raw(dir.path / "ovf.safetensors",
              raw_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", data));
    expect_error(dir.path / "ovf.safetensors", {"'w'", "overflow"});
}

TEST(Safetensors, OverlappingTensors) {
    TempDir dir("st_overlap");
    write_raw(dir.path / "o.safetensors", raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                                   std::string(16, '\0')));
    expect_error(dir.path / "o.safetensors", {"o.safetensors", "'b'", "overlaps tensor 'a'"});
}

TEST(Safetensors, UnknownDtype) {
    TempDir dir("st_dtype");
    write_raw(dir.path / "d.safetensors",
              raw_file(R"({"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')));
    expect_error(dir.path / "d.safetensors", {"d.safetensors", "'w'", "unknown safetensors dtype 'F31'"});
}

TEST(Safetensors, MalformedHeaders) {
    TempDir dir("st_json");
    const std::string data(8, '\0');
    write_raw(dir.path / "json.safetensors", raw_file("{not json", data));
    expect_error(dir.path / "json.safetensors", {"json.safetensors", "not valid JSON"});
    write_raw(dir.path / "dup.safetensors", raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                                     R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                     data));
    expect_error(dir.path / "dup.safetensors", {"'w'", "duplicate"});
    write_raw(dir.path / "arr.safetensors", raw_file("[1,2]", data));
    expect_error(dir.path / "arr.safetensors", {"not a JSON object"});
    write_raw(dir.path / "noshape.safetensors", raw_file(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", data));
    expect_error(dir.path / "noshape.safetensors", {"'w'", "shape"});
    write_raw(dir.path / "meta.safetensors", raw_file(R"({"__metadata__":{"format":1}})", data));
    expect_error(dir.path / "meta.safetensors", {"__metadata__", "format"});
}

TEST(Safetensors, MissingTensorAndMissingFileNameThePath) {
    TempDir dir("st_missing");
    expect_error(dir.path / "nope.safetensors", {"nope.safetensors", "cannot open"});
    write(dir.path / "a.safetensors", {{"x", at::ones({1})}});
    Reader r(dir.path / "a.safetensors");
    try {
        r.tensor("y");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'y'"), std::string::npos);
    }
}

}  // namespace anvil::safetensors
