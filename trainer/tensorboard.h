// TensorBoard event-file writer for scalar metrics, with no TensorFlow or protobuf dependency: the Event and
// Summary messages are encoded by hand and framed as TFRecords (length, masked CRC-32C of the length, data,
// masked CRC-32C of the data), which TensorBoard's own reader accepts. Images, histograms and text are not
// supported.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace anvil {

// CRC-32C (Castagnoli), as TFRecord framing uses, and its masked form.
uint32_t crc32c(std::string_view data);
uint32_t masked_crc32c(std::string_view data);

// One TFRecord: the framing around `payload`.
std::string tfrecord(std::string_view payload);

// The serialized Event protos this writer emits.
std::string encode_file_version_event(double wall_time);
std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value);

class TensorBoardWriter {
public:
    // Creates `dir` and a new events.out.tfevents.* file in it.
    explicit TensorBoardWriter(const std::filesystem::path& dir);
    ~TensorBoardWriter();
    TensorBoardWriter(const TensorBoardWriter&) = delete;
    TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

    void scalar(std::string_view tag, int64_t step, double value);
    void flush();
    const std::filesystem::path& path() const { return path_; }

private:
    void write_record(const std::string& payload);
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
};

}  // namespace anvil
