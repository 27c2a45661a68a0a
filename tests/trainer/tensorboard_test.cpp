// Unit tests for trainer/tensorboard.h: CRC-32C against the standard check value, TFRecord framing, and the
// hand-encoded Event protos decoded back field by field. tests/tools/check_tensorboard.py additionally reads
// a real event file with TensorBoard's own loader.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/files.h"
#include "trainer/tensorboard.h"

namespace anvil {
namespace {

uint64_t read_u64(const std::string& s, size_t at) {
    uint64_t v;
    std::memcpy(&v, s.data() + at, 8);
    return v;
}
uint32_t read_u32(const std::string& s, size_t at) {
    uint32_t v;
    std::memcpy(&v, s.data() + at, 4);
    return v;
}

}  // namespace

TEST(TensorBoard, Crc32cCheckValues) {
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value (RFC 3720 B.4)
    EXPECT_EQ(crc32c(""), 0u);
    std::string zeros(32, '\0');
    EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
}

TEST(TensorBoard, RecordFraming) {
    std::string payload = "hello event";
    std::string rec = tfrecord(payload);
    ASSERT_EQ(rec.size(), 8 + 4 + payload.size() + 4);
    EXPECT_EQ(read_u64(rec, 0), payload.size());
    EXPECT_EQ(read_u32(rec, 8), masked_crc32c(rec.substr(0, 8)));
    EXPECT_EQ(rec.substr(12, payload.size()), payload);
    EXPECT_EQ(read_u32(rec, 12 + payload.size()), masked_crc32c(payload));
}

TEST(TensorBoard, ScalarEventEncoding) {
    std::string e = encode_scalar_event(1.5, 300, "sft/loss", 0.25f);
    // wall_time: key 0x09 + 8-byte double
    ASSERT_EQ(static_cast<uint8_t>(e[0]), 0x09);
    double wall;
    std::memcpy(&wall, e.data() + 1, 8);
    EXPECT_EQ(wall, 1.5);
    // step: key 0x10 + varint 300 = 0xAC 0x02
    EXPECT_EQ(static_cast<uint8_t>(e[9]), 0x10);
    EXPECT_EQ(static_cast<uint8_t>(e[10]), 0xAC);
    EXPECT_EQ(static_cast<uint8_t>(e[11]), 0x02);
    // summary: key 0x2A, len; value: key 0x0A, len; tag: key 0x0A, len 8, "sft/loss"; simple_value: 0x15 + float
    EXPECT_EQ(static_cast<uint8_t>(e[12]), 0x2A);
    EXPECT_EQ(static_cast<uint8_t>(e[13]), e.size() - 14);
    EXPECT_EQ(static_cast<uint8_t>(e[14]), 0x0A);
    EXPECT_EQ(static_cast<uint8_t>(e[16]), 0x0A);
    EXPECT_EQ(static_cast<uint8_t>(e[17]), 8);
    EXPECT_EQ(e.substr(18, 8), "sft/loss");
    EXPECT_EQ(static_cast<uint8_t>(e[26]), 0x15);
    float v;
    std::memcpy(&v, e.data() + 27, 4);
    EXPECT_EQ(v, 0.25f);
    EXPECT_EQ(e.size(), 31u);
}

TEST(TensorBoard, WriterProducesValidRecordStream) {
    auto dir = std::filesystem::temp_directory_path() / ("anvil_tb_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
        TensorBoardWriter w(dir);
        w.scalar("a/x", 1, 0.5);
        w.scalar("a/x", 2, 0.25);
    }
    std::string content;
    for (auto& f : std::filesystem::directory_iterator(dir)) {
        EXPECT_NE(f.path().filename().string().find("events.out.tfevents."), std::string::npos);
        content = read_file(f.path());
    }
    size_t at = 0, records = 0;
    while (at < content.size()) {
        uint64_t len = read_u64(content, at);
        ASSERT_EQ(read_u32(content, at + 8), masked_crc32c(content.substr(at, 8)));
        ASSERT_EQ(read_u32(content, at + 12 + len), masked_crc32c(content.substr(at + 12, len)));
        at += 16 + len;
        ++records;
    }
    EXPECT_EQ(at, content.size());
    EXPECT_EQ(records, 3u);  // file_version + 2 scalars
    EXPECT_NE(content.find("brain.Event:2"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace anvil
