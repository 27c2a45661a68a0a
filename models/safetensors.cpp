// safetensors reader (mmap + full validation) and writer; see safetensors.h and specs/conventions.md §3.
#include "models/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/files.h"

namespace anvil::safetensors {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

struct DTypeName {
    const char* name;
    at::ScalarType type;
};

constexpr DTypeName dtype_table[] = {
    {"BOOL", at::kBool},
    {"U8", at::kByte},
    {"I8", at::kChar},
    {"I16", at::kShort},
    {"U16", at::kUInt16},
    {"F16", at::kHalf},
    {"BF16", at::kBFloat16},
    {"I32", at::kInt},
    {"U32", at::kUInt32},
    {"F32", at::kFloat},
    {"F64", at::kDouble},
    {"I64", at::kLong},
    {"U64", at::kUInt64},
    {"F8_E4M3", at::kFloat8_e4m3fn},
    {"F8_E5M2", at::kFloat8_e5m2},
};

std::string where(const fs::path& path, const std::string& tensor) {
    return tensor.empty() ? path.string() : str(path.string(), ": tensor '", tensor, "'");
}

uint64_t read_u64_le(const unsigned char* p) {
    uint64_t v = 0;
    std::memcpy(&v, p, 8);
    return v;
}

}  // namespace

at::ScalarType parse_dtype(const std::string& name, const std::string& context) {
    for (const auto& d : dtype_table)
        if (name == d.name) return d.type;
    throw Error(str(context, ": unknown safetensors dtype '", name, "'"));
}

std::string dtype_name(at::ScalarType type) {
    for (const auto& d : dtype_table)
        if (type == d.type) return d.name;
    throw Error(str("safetensors has no dtype for ", c10::toString(type)));
}

Reader::Reader(const fs::path& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ANVIL_CHECK(fd >= 0, path.string(), ": cannot open: ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        throw Error(str(path.string(), ": cannot stat: ", std::strerror(e)));
    }
    map_size_ = static_cast<size_t>(st.st_size);
    if (map_size_ < 8) {
        ::close(fd);
        throw Error(str(path.string(), ": truncated safetensors file (", map_size_, " bytes, no header length)"));
    }
    map_ = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    ::close(fd);
    if (map_ == MAP_FAILED) {
        map_ = nullptr;
        throw Error(str(path.string(), ": cannot mmap: ", std::strerror(map_errno)));
    }
    try {
        const auto* bytes = static_cast<const unsigned char*>(map_);
        uint64_t header_len = read_u64_le(bytes);
        ANVIL_CHECK(header_len <= max_header_bytes, path.string(), ": safetensors header of ", header_len,
                    " bytes exceeds the ", max_header_bytes, "-byte cap (corrupt or not a safetensors file)");
        ANVIL_CHECK(header_len <= map_size_ - 8, path.string(), ": truncated safetensors file: header claims ",
                    header_len, " bytes but only ", map_size_ - 8, " follow the length field");
        data_start_ = 8 + header_len;
        const uint64_t data_size = map_size_ - data_start_;
        std::string_view text(reinterpret_cast<const char*>(bytes + 8), header_len);

        // Duplicate top-level keys are illegal; nlohmann would silently keep the last one.
        std::set<std::string> seen;
        std::string duplicate;
        auto on_event = [&](int depth, nlohmann::ordered_json::parse_event_t event, nlohmann::ordered_json& parsed) {
            if (event == nlohmann::ordered_json::parse_event_t::key && depth == 1) {
                std::string key = parsed.get<std::string>();
                if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
            }
            return true;
        };
        nlohmann::ordered_json header;
        try {
            header = nlohmann::ordered_json::parse(text, on_event);
        } catch (const nlohmann::json::exception& e) {
            throw Error(str(path.string(), ": safetensors header is not valid JSON: ", e.what()));
        }
        ANVIL_CHECK(duplicate.empty(), where(path, duplicate), ": duplicate tensor name in safetensors header");
        ANVIL_CHECK(header.is_object(), path.string(), ": safetensors header is not a JSON object");

        for (auto it = header.begin(); it != header.end(); ++it) {
            const std::string& name = it.key();
            const auto& entry = it.value();
            if (name == "__metadata__") {
                ANVIL_CHECK(entry.is_object(), path.string(), ": __metadata__ is not an object");
                for (auto m = entry.begin(); m != entry.end(); ++m) {
                    ANVIL_CHECK(m.value().is_string(), path.string(), ": __metadata__ value '", m.key(),
                                "' is not a string");
                    metadata_[m.key()] = m.value().get<std::string>();
                }
                continue;
            }
            const std::string ctx = where(path, name);
            ANVIL_CHECK(entry.is_object(), ctx, ": header entry is not an object");
            ANVIL_CHECK(entry.contains("dtype") && entry["dtype"].is_string(), ctx, ": missing or non-string dtype");
            ANVIL_CHECK(entry.contains("shape") && entry["shape"].is_array(), ctx, ": missing or non-array shape");
            ANVIL_CHECK(
                entry.contains("data_offsets") && entry["data_offsets"].is_array() && entry["data_offsets"].size() == 2,
                ctx, ": data_offsets must be an array [begin, end]");
            TensorInfo info;
            info.name = name;
            info.dtype = parse_dtype(entry["dtype"].get<std::string>(), ctx);
            uint64_t numel = 1;
            for (const auto& d : entry["shape"]) {
                ANVIL_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), ctx,
                            ": shape entries must be non-negative integers, got ", d.dump());
                uint64_t dim = d.get<uint64_t>();
                ANVIL_CHECK(dim <= static_cast<uint64_t>(INT64_MAX) && !__builtin_mul_overflow(numel, dim, &numel), ctx,
                            ": shape overflows");
                info.shape.push_back(static_cast<int64_t>(dim));
            }
            for (const auto& o : entry["data_offsets"])
                ANVIL_CHECK(o.is_number_unsigned() || (o.is_number_integer() && o.get<int64_t>() >= 0), ctx,
                            ": data_offsets must be non-negative integers, got ", o.dump());
            info.begin = entry["data_offsets"][0].get<uint64_t>();
            info.end = entry["data_offsets"][1].get<uint64_t>();
            ANVIL_CHECK(info.begin <= info.end, ctx, ": data_offsets begin ", info.begin, " > end ", info.end);
            ANVIL_CHECK(info.end <= data_size, ctx, ": data_offsets [", info.begin, ", ", info.end,
                        ") out of range: the data buffer has ", data_size, " bytes (truncated file?)");
            uint64_t nbytes = 0;
            ANVIL_CHECK(!__builtin_mul_overflow(numel, c10::elementSize(info.dtype), &nbytes), ctx,
                        ": byte size overflows");
            ANVIL_CHECK(nbytes == info.end - info.begin, ctx, ": data_offsets span ", info.end - info.begin,
                        " bytes but shape × dtype needs ", nbytes);
            index_[name] = tensors_.size();
            tensors_.push_back(std::move(info));
        }

        std::vector<const TensorInfo*> by_offset;
        for (const auto& t : tensors_)
            if (t.end > t.begin) by_offset.push_back(&t);
        std::sort(by_offset.begin(), by_offset.end(),
                  [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
        for (size_t i = 1; i < by_offset.size(); ++i)
            ANVIL_CHECK(by_offset[i]->begin >= by_offset[i - 1]->end, where(path, by_offset[i]->name),
                        ": data overlaps tensor '", by_offset[i - 1]->name, "'");
    } catch (...) {
        ::munmap(map_, map_size_);
        map_ = nullptr;
        throw;
    }
}

Reader::~Reader() {
    if (map_ != nullptr) ::munmap(map_, map_size_);
}

Reader::Reader(Reader&& other) noexcept
    : path_(std::move(other.path_)),
      map_(std::exchange(other.map_, nullptr)),
      map_size_(other.map_size_),
      data_start_(other.data_start_),
      tensors_(std::move(other.tensors_)),
      index_(std::move(other.index_)),
      metadata_(std::move(other.metadata_)) {}

const TensorInfo& Reader::info(const std::string& name) const {
    auto it = index_.find(name);
    ANVIL_CHECK(it != index_.end(), where(path_, name), ": not in this safetensors file");
    return tensors_[it->second];
}

at::Tensor Reader::view(const std::string& name) const {
    const TensorInfo& t = info(name);
    if (t.end == t.begin) return at::empty(t.shape, at::TensorOptions().dtype(t.dtype));
    void* data = static_cast<char*>(map_) + data_start_ + t.begin;
    return at::from_blob(data, t.shape, at::TensorOptions().dtype(t.dtype));
}

at::Tensor Reader::tensor(const std::string& name) const {
    const TensorInfo& t = info(name);
    at::Tensor out = at::empty(t.shape, at::TensorOptions().dtype(t.dtype));
    if (t.end > t.begin) std::memcpy(out.data_ptr(), static_cast<char*>(map_) + data_start_ + t.begin, t.end - t.begin);
    return out;
}

void write(const fs::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
           const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        nlohmann::ordered_json meta = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metadata) meta[k] = v;
        header["__metadata__"] = meta;
    }
    std::vector<at::Tensor> cpu;
    cpu.reserve(tensors.size());
    std::set<std::string> names;
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        ANVIL_CHECK(!name.empty() && name != "__metadata__", path.string(), ": invalid tensor name '", name, "'");
        ANVIL_CHECK(names.insert(name).second, where(path, name), ": written twice");
        at::Tensor c = t.detach().to(at::kCPU).contiguous();
        uint64_t nbytes = c.nbytes();
        header[name] = {{"dtype", dtype_name(c.scalar_type())},
                        {"shape", c.sizes().vec()},
                        {"data_offsets", {offset, offset + nbytes}}};
        offset += nbytes;
        cpu.push_back(std::move(c));
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');

    fs::path tmp = path;
    tmp += ".tmp";
    FILE* out = std::fopen(tmp.c_str(), "wb");
    ANVIL_CHECK(out != nullptr, tmp.string(), ": cannot open for writing: ", std::strerror(errno));
    uint64_t len = text.size();
    bool ok = std::fwrite(&len, 8, 1, out) == 1 && std::fwrite(text.data(), 1, text.size(), out) == text.size();
    for (const auto& c : cpu)
        if (ok && c.nbytes() > 0) ok = std::fwrite(c.data_ptr(), 1, c.nbytes(), out) == c.nbytes();
    ok = (std::fclose(out) == 0) && ok;
    if (!ok) {
        fs::remove(tmp);
        throw Error(str(path.string(), ": write failed: ", std::strerror(errno)));
    }
    fsync_path(tmp);
    fs::rename(tmp, path);
    fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

}  // namespace anvil::safetensors
