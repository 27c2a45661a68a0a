// Integration test of one process holding both LibTorch and libsentencepiece (DESIGN.md §4, known traps:
// Debian's libsentencepiece exports protobuf-lite, which crashed a process that also loaded a LibTorch linked
// against another protobuf). It does a tensor op, trains and loads a SentencePiece model, and feeds the ids to
// LibTorch; reaching main() at all is half of the test. With the pinned wheel the protobuf clash does not occur,
// but the cleanup found another trap: libtorch.so exports its own std::filesystem, and fs::remove_all bound to it
// crashed until anvil_use_torch() put libstdc++ first on the link line (top-level CMakeLists.txt).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/files.h"
#include "models/sentencepiece_tokenizer.h"

namespace anvil {
namespace {

namespace fs = std::filesystem;

TEST(TokenizersWithTorch, SentencePieceTrainsAndLoadsInATorchProcess) {
    at::Tensor x = at::arange(6, at::kFloat).reshape({2, 3});
    EXPECT_FLOAT_EQ(x.sum().item<float>(), 15.0f);

    fs::path dir = fs::temp_directory_path() / ("anvil_sp_torch_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    write_file_atomic(dir / "corpus.txt",
                      read_file(std::string(ANVIL_SOURCE_DIR) + "/tests/fixtures/tokenizers/gsm8k_train_2000.txt.gz"));
    SentencePieceTrainOptions o;
    o.input = dir / "corpus.txt";
    o.model_prefix = dir / "tokenizer";
    o.vocab_size = 400;
    o.user_defined_symbols = {"<|im_start|>", "<|im_end|>"};
    o.input_sentence_size = 2000;
    train_sentencepiece(o);
    auto tok = SentencePieceTokenizer::load(dir / "tokenizer.model");
    std::string text = "<|im_start|>user\nHow many eggs?<|im_end|>";
    auto ids = tok->encode(text);
    EXPECT_EQ(tok->decode(ids), text);

    at::Tensor t = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
    EXPECT_EQ(t.numel(), static_cast<int64_t>(ids.size()));
    EXPECT_LT(t.max().item<int64_t>(), static_cast<int64_t>(tok->vocab_size()));
    fs::remove_all(dir);
}

}  // namespace
}  // namespace anvil
