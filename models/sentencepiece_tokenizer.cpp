// Implementation of models/sentencepiece_tokenizer.h over libsentencepiece and libsentencepiece_train.
#include "models/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "core/error.h"
#include "core/text.h"

namespace anvil {

namespace {

// The type of every piece (sentencepiece_model.proto: NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5,
// BYTE 6), read from the serialized ModelProto's wire format: this libsentencepiece (0.1.97) has no
// IsUserDefined() and its generated protobuf header would bring protobuf into Anvil's build.
std::vector<int> piece_types(std::string_view proto, const std::string& source) {
    size_t pos = 0;
    auto varint = [&](std::string_view buf, size_t& p) {
        uint64_t v = 0;
        for (int shift = 0; p < buf.size() && shift < 64; shift += 7) {
            auto b = static_cast<unsigned char>(buf[p++]);
            v |= static_cast<uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        throw Error(str(source, ": malformed SentencePiece model (bad varint)"));
    };
    auto skip = [&](std::string_view buf, size_t& p, uint64_t wire) {
        if (wire == 0)
            varint(buf, p);
        else if (wire == 1)
            p += 8;
        else if (wire == 5)
            p += 4;
        else if (wire == 2)
            p += varint(buf, p);
        else
            throw Error(str(source, ": malformed SentencePiece model (wire type ", wire, ")"));
        ANVIL_CHECK(p <= buf.size(), source, ": malformed SentencePiece model (truncated)");
    };
    std::vector<int> types;
    while (pos < proto.size()) {
        uint64_t key = varint(proto, pos);
        if ((key >> 3) != 1 || (key & 7) != 2) {
            skip(proto, pos, key & 7);
            continue;
        }
        size_t len = varint(proto, pos);
        ANVIL_CHECK(pos + len <= proto.size(), source, ": malformed SentencePiece model (truncated piece)");
        std::string_view piece = proto.substr(pos, len);
        pos += len;
        int type = 1;
        for (size_t p = 0; p < piece.size();) {
            uint64_t k = varint(piece, p);
            if ((k >> 3) == 3 && (k & 7) == 0)
                type = static_cast<int>(varint(piece, p));
            else
                skip(piece, p, k & 7);
        }
        types.push_back(type);
    }
    return types;
}

constexpr int kUserDefined = 4;

}  // namespace

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(const std::filesystem::path& model_file,
                                                                     bool add_bos, bool add_eos) {
    auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
    auto status = sp->Load(model_file.string());
    ANVIL_CHECK(status.ok(), model_file.string(), ": cannot load SentencePiece model: ", status.ToString());
    return std::make_unique<SentencePieceTokenizer>(std::move(sp), model_file.string(), add_bos, add_eos);
}

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp,
                                               std::string source, bool add_bos, bool add_eos)
    : sp_(std::move(sp)), source_(std::move(source)), add_bos_(add_bos), add_eos_(add_eos) {
    SpecialTokenIds ids;
    if (sp_->bos_id() >= 0) ids.bos = sp_->bos_id();
    if (sp_->eos_id() >= 0) ids.eos.push_back(sp_->eos_id());
    if (sp_->pad_id() >= 0) ids.pad = sp_->pad_id();
    set_special_ids(ids);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<TokenId> SentencePieceTokenizer::encode(std::string_view text, bool add_special) const {
    std::vector<int> pieces;
    auto status = sp_->Encode(absl::string_view(text.data(), text.size()), &pieces);
    ANVIL_CHECK(status.ok(), source_, ": encode failed: ", status.ToString());
    std::vector<TokenId> ids;
    ids.reserve(pieces.size() + 2);
    const SpecialTokenIds& special = special_ids();
    if (add_special && add_bos_ && special.bos) ids.push_back(*special.bos);
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    if (add_special && add_eos_ && !special.eos.empty()) ids.push_back(special.eos.front());
    return ids;
}

std::string SentencePieceTokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
    // SentencePiece drops control pieces when decoding; runs between them are decoded together and, unless
    // skipped, each control piece is written as its text.
    std::string out;
    std::vector<int> run;
    auto flush = [&] {
        if (run.empty()) return;
        std::string text;
        auto status = sp_->Decode(run, &text);
        ANVIL_CHECK(status.ok(), source_, ": decode failed: ", status.ToString());
        out += text;
        run.clear();
    };
    for (TokenId id : ids) {
        ANVIL_CHECK(id >= 0 && id < sp_->GetPieceSize(), source_, ": cannot decode token id ", id, " (vocabulary size ",
                    sp_->GetPieceSize(), ")");
        if (is_special(id)) {
            flush();
            if (!skip_special) out += sp_->IdToPiece(id);
            continue;
        }
        run.push_back(id);
    }
    flush();
    return out;
}

std::optional<TokenId> SentencePieceTokenizer::token_to_id(std::string_view token) const {
    int id = sp_->PieceToId(absl::string_view(token.data(), token.size()));
    // PieceToId answers unk_id for unknown pieces; only the unknown piece itself maps there.
    if (id == sp_->unk_id() && sp_->IdToPiece(id) != token) return std::nullopt;
    return id;
}

std::string SentencePieceTokenizer::id_to_token(TokenId id) const {
    ANVIL_CHECK(id >= 0 && id < sp_->GetPieceSize(), source_, ": token id ", id, " is not in the vocabulary (size ",
                sp_->GetPieceSize(), ")");
    return sp_->IdToPiece(id);
}

size_t SentencePieceTokenizer::vocab_size() const {
    return static_cast<size_t>(sp_->GetPieceSize());
}

bool SentencePieceTokenizer::is_special(TokenId id) const {
    return id >= 0 && id < sp_->GetPieceSize() && (sp_->IsControl(id) || sp_->IsUnknown(id));
}

std::vector<AddedToken> SentencePieceTokenizer::added_tokens() const {
    std::vector<AddedToken> out;
    std::string proto = sp_->serialized_model_proto();
    std::vector<int> types = piece_types(proto, source_);
    for (int id = 0; id < static_cast<int>(types.size()); ++id) {
        if (types[static_cast<size_t>(id)] != kUserDefined) continue;
        AddedToken a;
        a.id = id;
        a.content = sp_->IdToPiece(id);
        out.push_back(a);
    }
    return out;
}

void train_sentencepiece(const SentencePieceTrainOptions& o) {
    ANVIL_CHECK(o.model_type == "bpe" || o.model_type == "unigram", "SentencePiece training: model_type '",
                o.model_type, "' is not one of bpe, unigram");
    ANVIL_CHECK(std::filesystem::exists(o.input), o.input.string(), ": SentencePiece training input does not exist");
    ANVIL_CHECK(o.vocab_size > 0, "SentencePiece training: vocab_size must be positive, got ", o.vocab_size);
    std::unordered_map<std::string, std::string> args = {
        {"input", o.input.string()},
        {"model_prefix", o.model_prefix.string()},
        {"vocab_size", std::to_string(o.vocab_size)},
        {"model_type", o.model_type},
        {"byte_fallback", o.byte_fallback ? "true" : "false"},
        {"character_coverage", std::to_string(o.character_coverage)},
        {"hard_vocab_limit", o.hard_vocab_limit ? "true" : "false"},
        {"unk_id", std::to_string(o.unk_id)},
        {"bos_id", std::to_string(o.bos_id)},
        {"eos_id", std::to_string(o.eos_id)},
        {"pad_id", std::to_string(o.pad_id)},
        {"num_threads", std::to_string(o.num_threads)},
        {"input_sentence_size", std::to_string(o.input_sentence_size)},
        {"normalization_rule_name", o.normalization_rule_name},
        {"remove_extra_whitespaces", o.remove_extra_whitespaces ? "true" : "false"},
        {"split_digits", o.split_digits ? "true" : "false"},
        {"add_dummy_prefix", o.add_dummy_prefix ? "true" : "false"},
        {"allow_whitespace_only_pieces", o.allow_whitespace_only_pieces ? "true" : "false"},
        {"minloglevel", "2"},  // errors come back in the status; no progress chatter on stderr
    };
    for (const std::string& symbol : o.user_defined_symbols)
        ANVIL_CHECK(!symbol.empty() && symbol.find(',') == std::string::npos,
                    "SentencePiece training: user-defined symbol '", symbol,
                    "' must be non-empty and contain no comma");
    if (!o.user_defined_symbols.empty()) args["user_defined_symbols"] = join(o.user_defined_symbols, ",");
    if (!o.model_prefix.parent_path().empty()) std::filesystem::create_directories(o.model_prefix.parent_path());
    auto status = sentencepiece::SentencePieceTrainer::Train(args);
    ANVIL_CHECK(status.ok(), o.input.string(), ": SentencePiece training failed: ", status.ToString());
}

}  // namespace anvil
