// safetensors reader and writer (specs/conventions.md §3): an 8-byte little-endian header length, a JSON
// header {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}, then the packed byte buffer.
// The reader mmaps the file and validates everything before any tensor is touched: header size (cap 100 MB),
// JSON shape, duplicate names, dtype names, shapes, offsets in bounds, byte counts matching shape × dtype, and
// no two tensors overlapping. Every error is an anvil::Error naming the file (and the tensor when there is
// one). This file knows nothing about models or tensor names; models/checkpoint.h maps names to modules.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace anvil::safetensors {

// The reference parser's cap on the JSON header.
inline constexpr uint64_t max_header_bytes = 100'000'000;

// Maps a safetensors dtype string ("BF16", "F32", ..., "F8_E4M3") to a LibTorch scalar type;
// throws anvil::Error naming `context` on an unknown string.
at::ScalarType parse_dtype(const std::string& name, const std::string& context);
// The safetensors name of a LibTorch scalar type; throws anvil::Error when safetensors has none.
std::string dtype_name(at::ScalarType type);

struct TensorInfo {
    std::string name;
    at::ScalarType dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0;  // byte offsets relative to the start of the data buffer; end is one past the last
    uint64_t end = 0;
};

// A validated, memory-mapped safetensors file. Movable, not copyable; views die with it.
class Reader {
public:
    explicit Reader(const std::filesystem::path& path);
    ~Reader();
    Reader(Reader&& other) noexcept;
    Reader& operator=(Reader&&) = delete;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // Tensors in header order (the JSON header's key order, which is sorted by name).
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    bool contains(const std::string& name) const { return index_.count(name) != 0; }
    // Throws anvil::Error naming the file and the tensor when it is absent.
    const TensorInfo& info(const std::string& name) const;

    // A CPU tensor aliasing the mapping (copy-on-write: writing to it never changes the file). Valid only
    // while this Reader lives; use it to copy straight into a destination (`param.copy_(reader.view(n))`).
    at::Tensor view(const std::string& name) const;
    // An owned CPU copy of the tensor.
    at::Tensor tensor(const std::string& name) const;

private:
    std::filesystem::path path_;
    void* map_ = nullptr;
    size_t map_size_ = 0;
    uint64_t data_start_ = 0;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// Writes `tensors` (any device, any layout; written contiguous, little-endian, C order) in the given order,
// header padded with spaces to 8 bytes, "__metadata__" = `metadata` (HF writes {"format": "pt"}).
// The file is written to a temporary name, fsynced and renamed: readers never see a partial file.
// Names must be unique and non-empty and must not be "__metadata__".
void write(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
           const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace anvil::safetensors
