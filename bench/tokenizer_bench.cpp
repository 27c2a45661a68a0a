// Tokenizer benchmark: encoding MB/s and tokens/s of the byte-level BPE tokenizer (models/bpe_tokenizer.h) on
// ~2 MB of text — GSM8K questions and answers (English, numbers) and the multilingual / code / emoji corpus of
// the parity fixtures — cold (empty word cache) and warm, plus decoding; and, when given a Python with HF
// `tokenizers`, the same measurements of HF tokenizers on the same documents (bench/tokenizer_bench_hf.py),
// side by side. Prints numbers only; nothing here asserts on time.
//
//   ./build/bin/tokenizer_bench [--tokenizer DIR] [--python /root/.cache/anvil/venv-fixtures/bin/python]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/text.h"
#include "models/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// Documents: each GSM8K row (question + answer), then the fixture corpus repeated to about 1 MB.
std::vector<std::string> make_corpus(const std::string& fixtures) {
    std::vector<std::string> docs;
    std::string gsm = anvil::read_file(fixtures + "gsm8k_train_2000.txt.gz");
    std::string doc;
    for (const std::string& line : anvil::split(gsm, '\n')) {
        doc += line + "\n";
        if (line.rfind("#### ", 0) == 0) {
            docs.push_back(doc);
            doc.clear();
        }
    }
    auto cases = nlohmann::json::parse(anvil::read_file(fixtures + "bpe_cases.json.gz")).at("qwen3");
    size_t bytes = 0;
    while (bytes < (1u << 20)) {
        for (const auto& c : cases) {
            docs.push_back(c["text"].get<std::string>());
            bytes += docs.back().size();
        }
    }
    return docs;
}

struct Result {
    double cold_mb_s, warm_mb_s, tokens_per_s, decode_mb_s;
};

Result run(const anvil::Tokenizer& tok, const std::vector<std::string>& docs, size_t total_bytes, size_t& tokens) {
    Result r{};
    auto t = Clock::now();
    std::vector<std::vector<anvil::TokenId>> ids;
    ids.reserve(docs.size());
    for (const auto& d : docs) ids.push_back(tok.encode(d));
    r.cold_mb_s = static_cast<double>(total_bytes) / 1e6 / seconds_since(t);
    tokens = 0;
    const int reps = 3;
    t = Clock::now();
    for (int k = 0; k < reps; ++k)
        for (const auto& d : docs) tokens += tok.encode(d).size();
    double warm = seconds_since(t);
    r.warm_mb_s = static_cast<double>(total_bytes) * reps / 1e6 / warm;
    r.tokens_per_s = static_cast<double>(tokens) / warm;
    tokens /= reps;
    t = Clock::now();
    size_t out = 0;
    for (const auto& v : ids) out += tok.decode(v).size();
    r.decode_mb_s = static_cast<double>(out) / 1e6 / seconds_since(t);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string fixtures = std::string(ANVIL_SOURCE_DIR) + "/tests/fixtures/tokenizers/";
        fs::path dir = fixtures + "qwen3";
        std::string python;
        for (int i = 1; i + 1 < argc; i += 2) {
            std::string flag = argv[i];
            if (flag == "--tokenizer")
                dir = argv[i + 1];
            else if (flag == "--python")
                python = argv[i + 1];
            else
                throw anvil::UsageError("usage: tokenizer_bench [--tokenizer DIR] [--python PYTHON]");
        }
        auto t = Clock::now();
        auto tok = anvil::load_tokenizer(dir);
        double load_s = seconds_since(t);
        auto docs = make_corpus(fixtures);
        size_t total = 0;
        for (const auto& d : docs) total += d.size();
        size_t tokens = 0;
        Result r = run(*tok, docs, total, tokens);

        std::printf("tokenizer %s: %zu ids, loaded in %.2f s\n", dir.string().c_str(), tok->vocab_size(), load_s);
        std::printf("corpus: %zu documents, %.2f MB, %zu tokens (%.2f bytes/token)\n", docs.size(), total / 1e6, tokens,
                    static_cast<double>(total) / static_cast<double>(tokens));
        std::printf("%-22s %12s %12s %14s %12s\n", "", "cold MB/s", "warm MB/s", "warm tokens/s", "decode MB/s");
        std::printf("%-22s %12.2f %12.2f %14.0f %12.2f\n", "anvil (1 thread)", r.cold_mb_s, r.warm_mb_s, r.tokens_per_s,
                    r.decode_mb_s);
        if (!python.empty()) {
            fs::path corpus = fs::temp_directory_path() / "anvil_tokenizer_bench_corpus.jsonl";
            std::string lines;
            for (const auto& d : docs) lines += nlohmann::json(d).dump() + "\n";
            anvil::write_file_atomic(corpus, lines);
            std::string cmd = python + " " + ANVIL_SOURCE_DIR + "/bench/tokenizer_bench_hf.py " + dir.string() + " " +
                              corpus.string();
            FILE* pipe = ::popen(cmd.c_str(), "r");
            ANVIL_CHECK(pipe, "cannot run ", cmd);
            std::string out;
            char buf[4096];
            while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
            int rc = ::pclose(pipe);
            fs::remove(corpus);
            ANVIL_CHECK(rc == 0, "HF benchmark failed (exit ", rc, "): ", cmd);
            for (const std::string& line : anvil::split(anvil::trim(out), '\n')) {
                auto j = nlohmann::json::parse(line);
                std::printf("%-22s %12.2f %12.2f %14.0f %12.2f\n", j["name"].get<std::string>().c_str(),
                            j["cold_mb_s"].get<double>(), j["warm_mb_s"].get<double>(), j["tokens_per_s"].get<double>(),
                            j["decode_mb_s"].get<double>());
                ANVIL_CHECK(j["tokens"].get<size_t>() == tokens, "HF tokenizers made ", j["tokens"].get<size_t>(),
                            " tokens, anvil ", tokens);
            }
            std::printf("(same token count from both: %zu)\n", tokens);
        }
        return 0;
    } catch (const anvil::Error& e) {
        std::cerr << "tokenizer_bench: " << e.what() << "\n";
        return 1;
    }
}
