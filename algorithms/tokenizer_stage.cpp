// Implementation of algorithms/tokenizer_stage.h.
#include "algorithms/tokenizer_stage.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "models/sentencepiece_tokenizer.h"
#include "models/tokenizer.h"
#include "trainer/run_context.h"

namespace anvil {

const config::Section<TokenizerStageOptions>& TokenizerStageOptions::section() {
    static const config::Section<TokenizerStageOptions> s = [] {
        config::Section<TokenizerStageOptions> s("tokenizer", "Train a SentencePiece tokenizer.");
        s.field("inputs", &TokenizerStageOptions::inputs, "JSONL files (or @artifacts) whose text trains the tokenizer.");
        s.field("fields", &TokenizerStageOptions::fields, "String fields of each record used as training text.");
        s.field("vocab_size", &TokenizerStageOptions::vocab_size, "Vocabulary size, special tokens included.")
            .min(32)
            .max(1 << 20);
        s.field("model_type", &TokenizerStageOptions::model_type, "SentencePiece algorithm.").choices({"bpe", "unigram"});
        s.field("special_tokens", &TokenizerStageOptions::special_tokens,
                "Extra tokens that always stay one piece (e.g. \"<|im_start|>\").");
        s.check([](const TokenizerStageOptions& o, const config::Reporter& report) {
            if (o.inputs.empty()) report("inputs", "needs at least one file");
            if (o.fields.empty()) report("fields", "needs at least one field");
        });
        return s;
    }();
    return s;
}

void run_tokenizer_stage(const TokenizerStageOptions& o, RunContext& ctx) {
    namespace fs = std::filesystem;
    std::string corpus;
    size_t lines = 0;
    for (const auto& input : o.inputs) {
        const std::string path = ctx.resolve(input, "inputs");
        for_each_jsonl(path, false, [&](const nlohmann::json& record, size_t) {
            for (const auto& field : o.fields) {
                auto it = record.find(field);
                if (it == record.end() || !it->is_string()) throw Error(str("missing string field '", field, "'"));
                std::string text = it->get<std::string>();
                for (char& c : text)
                    if (c == '\n') c = ' ';
                corpus += text + "\n";
                ++lines;
            }
        });
    }
    const fs::path corpus_file = ctx.stage_dir() / "corpus.txt";
    write_file_atomic(corpus_file, corpus);
    const fs::path dir = ctx.stage_dir() / "tokenizer";
    fs::create_directories(dir);
    SentencePieceTrainOptions train;
    train.input = corpus_file;
    train.model_prefix = dir / "tokenizer";
    train.vocab_size = static_cast<int>(o.vocab_size);
    train.model_type = o.model_type;
    train.user_defined_symbols = o.special_tokens;
    train.pad_id = 3;  // so batches can be padded with a real token id
    train.hard_vocab_limit = false;
    log::info("training a ", o.model_type, " SentencePiece tokenizer (", o.vocab_size, " pieces) on ", lines, " lines");
    train_sentencepiece(train);
    fs::remove(dir / "tokenizer.vocab");
    nlohmann::ordered_json config = {{"tokenizer_class", "LlamaTokenizer"}, {"bos_token", "<s>"},
                                     {"eos_token", "</s>"},                {"pad_token", "<pad>"},
                                     {"unk_token", "<unk>"},               {"add_bos_token", true},
                                     {"add_eos_token", false}};
    write_file_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
    auto tok = load_tokenizer(dir);
    const auto sample = tok->encode("What is 12 + 7?");
    log::info("tokenizer: ", tok->vocab_size(), " pieces; \"What is 12 + 7?\" -> ", sample.size(), " tokens; saved to ",
              dir.string());
    ctx.publish("tokenizer", dir.string());
}

}  // namespace anvil
