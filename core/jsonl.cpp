// Implementation of core/jsonl.h.
#include "core/jsonl.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"

namespace anvil {

JsonlStats for_each_jsonl(const std::filesystem::path& path, bool skip_invalid,
                          const std::function<void(const nlohmann::json&, size_t line)>& record) {
    const std::string content = read_file(path);
    JsonlStats stats;
    size_t line_no = 0, start = 0;
    size_t first_skipped_line = 0;
    std::string first_skip_reason;
    while (start < content.size()) {
        size_t end = content.find('\n', start);
        if (end == std::string::npos) end = content.size();
        std::string_view line(content.data() + start, end - start);
        start = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        std::string problem;
        try {
            auto value = nlohmann::json::parse(line);
            record(value, line_no);
            ++stats.records;
            continue;
        } catch (const nlohmann::json::parse_error& e) {
            problem = str("invalid JSON: ", e.what());
        } catch (const nlohmann::json::exception& e) {
            problem = str("unexpected field type: ", e.what());
        } catch (const UsageError&) {
            throw;
        } catch (const Error& e) {
            problem = e.what();
        }
        if (!skip_invalid) throw Error(str(path.string(), ":", line_no, ": ", problem));
        if (stats.skipped++ == 0) {
            first_skipped_line = line_no;
            first_skip_reason = problem;
        }
    }
    if (stats.skipped > 0)
        log::warn(path.string(), ": skipped ", stats.skipped, " malformed record(s); first at line ", first_skipped_line,
                  ": ", first_skip_reason);
    return stats;
}

}  // namespace anvil
