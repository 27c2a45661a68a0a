// Implementation of task.h.
#include "environments/task.h"

#include "core/error.h"
#include "core/files.h"
#include "core/jsonl.h"
#include "core/text.h"
#include "environments/math_answer.h"

namespace anvil::env {

namespace {

const nlohmann::json* lookup(const nlohmann::json& record, const std::string& dotted) {
    const nlohmann::json* cur = &record;
    for (const auto& part : split(dotted, '.')) {
        if (!cur->is_object() || !cur->contains(part)) return nullptr;
        cur = &(*cur)[part];
    }
    return cur;
}

std::string text_of(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_array()) {  // a chat prompt: the content of the user messages
        std::string out;
        for (const auto& m : v)
            if (m.is_object() && m.contains("content")) out += (out.empty() ? "" : "\n") + text_of(m["content"]);
        return out;
    }
    return v.dump();
}

std::string required_text(const nlohmann::json& record, const std::string& field) {
    const nlohmann::json* v = lookup(record, field);
    if (!v || v->is_null()) throw Error(str("missing field '", field, "'"));
    return text_of(*v);
}

std::string optional_text(const nlohmann::json& record, const std::string& field) {
    const nlohmann::json* v = field.empty() ? nullptr : lookup(record, field);
    return v && !v->is_null() ? text_of(*v) : std::string();
}

// MathDial and MathTutorBench solutions end with a line holding only the final answer.
std::string last_line(const std::string& text) {
    std::vector<std::string> lines = split(trim(text), '\n');
    return lines.empty() ? "" : trim(lines.back());
}

}  // namespace

TaskSourceOptions task_source(const std::string& path) {
    TaskSourceOptions t;
    t.path = path;
    return t;
}

const config::Section<TaskSourceOptions>& task_source_section() {
    static const config::Section<TaskSourceOptions> section = [] {
        config::Section<TaskSourceOptions> s("tasks", "Where an environment's tasks come from (JSONL).");
        s.field("path", &TaskSourceOptions::path, "JSONL file of tasks (.jsonl or .jsonl.gz).").required();
        s.field("format", &TaskSourceOptions::format,
                "Built-in record layout, or 'fields' to use the *_field keys below.")
            .choices({"fields", "gsm8k", "math", "mbpp", "humaneval", "mathdial", "mathtutorbench"});
        s.field("id_field", &TaskSourceOptions::id_field, "Field holding the task id (the line number if absent).");
        s.field("prompt_field", &TaskSourceOptions::prompt_field,
                "Field holding the prompt (a string, or a list of chat messages whose contents are joined).");
        s.field("answer_field", &TaskSourceOptions::answer_field,
                "Field holding the reference answer; a dotted path reaches into objects.");
        s.field("tests_field", &TaskSourceOptions::tests_field, "Field holding an array of Python assert tests.");
        s.field("io_tests_field", &TaskSourceOptions::io_tests_field,
                "Field holding an array of {\"input\", \"output\"} stdin/stdout tests.");
        s.field("limit", &TaskSourceOptions::limit, "Read at most this many tasks; 0 reads all.").min(0);
        s.field("skip_invalid", &TaskSourceOptions::skip_invalid,
                "Skip and count malformed records instead of stopping at the first.");
        return s;
    }();
    return section;
}

std::string gsm8k_final_answer(const std::string& solution) {
    size_t p = solution.rfind("####");
    if (p == std::string::npos) throw Error("GSM8K answer has no '#### <number>' line");
    std::string a = trim(solution.substr(p + 4));
    std::string out;
    for (char c : a)
        if (c != ',') out += c;
    return out;
}

Task task_from_record(const nlohmann::json& record, const TaskSourceOptions& options, size_t index) {
    Task t;
    t.meta = record;
    const std::string& f = options.format;
    if (f == "gsm8k") {
        t.id = str("gsm8k/", index);
        t.prompt = required_text(record, "question");
        t.reference_solution = required_text(record, "answer");
        t.answer = gsm8k_final_answer(t.reference_solution);
        t.data_source = "gsm8k";
    } else if (f == "math") {
        t.id = record.contains("unique_id") ? text_of(record["unique_id"]) : str("math/", index);
        t.prompt = required_text(record, "problem");
        t.reference_solution = optional_text(record, "solution");
        t.answer = optional_text(record, "answer");
        if (t.answer.empty()) {
            auto boxed = last_boxed(t.reference_solution);
            if (!boxed) throw Error("MATH record has neither an 'answer' field nor a \\boxed{} in 'solution'");
            t.answer = *boxed;
        }
        t.data_source = "math";
    } else if (f == "mbpp") {
        t.id = str("mbpp/", required_text(record, "task_id"));
        t.prompt = required_text(record, "text");
        t.reference_solution = required_text(record, "code");
        t.test_setup = optional_text(record, "test_setup_code");
        const nlohmann::json* tests = lookup(record, "test_list");
        if (!tests || !tests->is_array()) throw Error("missing field 'test_list'");
        for (const auto& a : *tests) t.assert_tests.push_back(a.get<std::string>());
        t.data_source = "mbpp";
    } else if (f == "humaneval") {
        t.id = required_text(record, "task_id");
        t.prompt = required_text(record, "prompt");
        t.reference_solution = t.prompt + required_text(record, "canonical_solution");
        t.test_setup = required_text(record, "test");
        t.assert_tests.push_back(str("check(", required_text(record, "entry_point"), ")"));
        t.data_source = "humaneval";
    } else if (f == "mathdial" || f == "mathtutorbench") {
        const bool dial = f == "mathdial";
        t.id = dial ? str("mathdial/", required_text(record, "qid")) : str("mathtutorbench/", index);
        t.prompt = required_text(record, dial ? "question" : "problem");
        t.reference_solution = required_text(record, dial ? "ground_truth" : "reference_solution");
        t.answer = last_line(t.reference_solution);
        if (t.prompt.empty() || t.answer.empty()) throw Error("record has no problem or no final answer line");
        t.data_source = f;
    } else {
        std::string id = optional_text(record, options.id_field);
        t.id = id.empty() ? std::to_string(index) : id;
        t.prompt = required_text(record, options.prompt_field);
        t.answer = optional_text(record, options.answer_field);
        t.data_source = optional_text(record, "data_source");
        if (!options.tests_field.empty()) {
            const nlohmann::json* tests = lookup(record, options.tests_field);
            if (!tests || !tests->is_array()) throw Error(str("field '", options.tests_field, "' is not an array"));
            for (const auto& a : *tests) t.assert_tests.push_back(text_of(a));
        }
        if (!options.io_tests_field.empty()) {
            const nlohmann::json* tests = lookup(record, options.io_tests_field);
            if (!tests || !tests->is_array())
                throw Error(str("field '", options.io_tests_field, "' is not an array"));
            for (const auto& io : *tests)
                t.io_tests.push_back({required_text(io, "input"), required_text(io, "output")});
        }
    }
    return t;
}

std::vector<Task> load_tasks(const TaskSourceOptions& options) {
    std::vector<Task> tasks;
    auto full = [&] { return options.limit > 0 && static_cast<int64_t>(tasks.size()) >= options.limit; };
    if (options.format == "mathtutorbench") {
        // One JSON array; its curriculum-label items (no problem text, solution "N/A") are skipped.
        nlohmann::json items;
        try {
            items = nlohmann::json::parse(read_file(options.path));
        } catch (const nlohmann::json::exception& e) {
            throw Error(str(options.path, ": invalid JSON: ", e.what()));
        }
        ANVIL_CHECK(items.is_array(), options.path, ": expected a JSON array of dialogues");
        for (size_t i = 0; i < items.size() && !full(); ++i) {
            if (items[i].value("problem", std::string()).empty()) continue;
            try {
                tasks.push_back(task_from_record(items[i], options, i));
            } catch (const Error& e) {
                if (!options.skip_invalid) throw Error(str(options.path, ": item ", i, ": ", e.what()));
            }
        }
        return tasks;
    }
    for_each_jsonl(options.path, options.skip_invalid, [&](const nlohmann::json& record, size_t) {
        if (!full()) tasks.push_back(task_from_record(record, options, tasks.size()));
    });
    return tasks;
}

}  // namespace anvil::env
