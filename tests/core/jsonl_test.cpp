// Unit tests for core/jsonl.h: line numbers in errors and the skip-and-count policy.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/jsonl.h"

namespace anvil {
namespace fs = std::filesystem;

namespace {
fs::path write_temp(const std::string& name, const std::string& content) {
    fs::path p = fs::temp_directory_path() / (name + std::to_string(::getpid()) + ".jsonl");
    write_file_atomic(p, content);
    return p;
}
}  // namespace

TEST(Jsonl, ReadsRecordsWithLineNumbers) {
    auto p = write_temp("ok", "{\"a\": 1}\n\n{\"a\": 2}\n");
    std::vector<std::pair<int, size_t>> seen;
    auto stats = for_each_jsonl(p, false, [&](const nlohmann::json& j, size_t line) {
        seen.emplace_back(j.at("a").get<int>(), line);
    });
    EXPECT_EQ(stats.records, 2u);
    EXPECT_EQ(seen, (std::vector<std::pair<int, size_t>>{{1, 1}, {2, 3}}));
    fs::remove(p);
}

TEST(Jsonl, MalformedLineIsAnErrorNamingFileAndLine) {
    auto p = write_temp("bad", "{\"a\": 1}\n{\"a\": \n");
    try {
        for_each_jsonl(p, false, [](const nlohmann::json&, size_t) {});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(p.string() + ":2:"), std::string::npos) << msg;
    }
    fs::remove(p);
}

TEST(Jsonl, SkipInvalidCountsBadJsonAndRejectedRecords) {
    auto p = write_temp("skip", "{\"a\": 1}\nnot json\n{\"b\": 2}\n{\"a\": 3}\n");
    std::vector<int> values;
    auto stats = for_each_jsonl(p, true, [&](const nlohmann::json& j, size_t) {
        if (!j.contains("a")) throw Error("missing field 'a'");
        values.push_back(j["a"].get<int>());
    });
    EXPECT_EQ(values, (std::vector<int>{1, 3}));
    EXPECT_EQ(stats.records, 2u);
    EXPECT_EQ(stats.skipped, 2u);
    fs::remove(p);
}

}  // namespace anvil
