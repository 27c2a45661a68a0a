// Implementation of trainer/tensorboard.h. Wire format: tensorflow/core/util/event.proto (Event: wall_time=1
// double, step=2 int64, file_version=3 string, summary=5 message) and summary.proto (Summary.value=1;
// Value.tag=1 string, Value.simple_value=2 float); framing: tensorflow/core/lib/io/record_writer.cc.
#include "trainer/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "core/error.h"

namespace anvil {
namespace {

const std::array<uint32_t, 256>& crc_table() {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected Castagnoli
            t[i] = c;
        }
        return t;
    }();
    return table;
}

void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

template <class T>
void put_little_endian(std::string& out, T v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));  // x86-64 and aarch64 are little-endian
    out.append(bytes, sizeof(T));
}

void put_key(std::string& out, int field, int wire_type) { put_varint(out, static_cast<uint64_t>(field << 3 | wire_type)); }

void put_bytes(std::string& out, int field, std::string_view bytes) {
    put_key(out, field, 2);
    put_varint(out, bytes.size());
    out.append(bytes);
}

std::string event_header(double wall_time, int64_t step) {
    std::string e;
    put_key(e, 1, 1);
    put_little_endian(e, wall_time);
    if (step != 0) {
        put_key(e, 2, 0);
        put_varint(e, static_cast<uint64_t>(step));
    }
    return e;
}

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(std::string_view data) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char byte : data) c = crc_table()[(c ^ byte) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::string_view data) {
    uint32_t c = crc32c(data);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord(std::string_view payload) {
    std::string length;
    put_little_endian(length, static_cast<uint64_t>(payload.size()));
    std::string out = length;
    put_little_endian(out, masked_crc32c(length));
    out.append(payload);
    put_little_endian(out, masked_crc32c(payload));
    return out;
}

std::string encode_file_version_event(double wall_time) {
    std::string e = event_header(wall_time, 0);
    put_bytes(e, 3, "brain.Event:2");
    return e;
}

std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value) {
    std::string summary_value;
    put_bytes(summary_value, 1, tag);
    put_key(summary_value, 2, 5);
    put_little_endian(summary_value, value);
    std::string summary;
    put_bytes(summary, 1, summary_value);
    std::string e = event_header(wall_time, step);
    put_bytes(e, 5, summary);
    return e;
}

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    double t = now_seconds();
    path_ = dir / str("events.out.tfevents.", static_cast<int64_t>(t), ".", host, ".", ::getpid(), ".0");
    file_ = std::fopen(path_.c_str(), "ab");
    if (!file_) throw Error(str(path_.string(), ": cannot create TensorBoard event file"));
    write_record(encode_file_version_event(t));
    flush();
}

TensorBoardWriter::~TensorBoardWriter() {
    if (file_) std::fclose(file_);
}

void TensorBoardWriter::scalar(std::string_view tag, int64_t step, double value) {
    write_record(encode_scalar_event(now_seconds(), step, tag, static_cast<float>(value)));
}

void TensorBoardWriter::flush() { std::fflush(file_); }

void TensorBoardWriter::write_record(const std::string& payload) {
    std::string record = tfrecord(payload);
    if (std::fwrite(record.data(), 1, record.size(), file_) != record.size())
        throw Error(str(path_.string(), ": write failed"));
}

}  // namespace anvil
