// Reading JSON-lines data files (plain or .gz) with errors that name the file and line, and an optional
// policy to skip and count malformed records instead. Schema mapping (which fields mean what) belongs to
// the room that owns the data (environments/ for tasks, trainer/ for SFT, ...), not here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json_fwd.hpp>

namespace anvil {

struct JsonlStats {
    size_t records = 0;  // lines handed to the callback successfully
    size_t skipped = 0;  // malformed lines skipped (only with skip_invalid)
};

// Calls `record(json, line_number)` for every non-blank line. A line that is not valid JSON, or for which
// `record` throws anvil::Error, is an error "file:line: ..." — or, with `skip_invalid`, is counted and skipped.
JsonlStats for_each_jsonl(const std::filesystem::path& path, bool skip_invalid,
                          const std::function<void(const nlohmann::json&, size_t line)>& record);

}  // namespace anvil
