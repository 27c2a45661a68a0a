// Llama / Qwen2 / Qwen3 / Mistral decoder; see transformer.h. Mirrors transformers' modeling_llama.py,
// modeling_qwen2.py and modeling_qwen3.py (RMSNorm in fp32, rotate-half RoPE, SwiGLU MLP, SDPA attention).
// On CPU fp32 without autograd, decode steps use models/decode_attention.h instead of SDPA, RoPE and
// RMSNorm's scale step run as single passes with the same bits as the tensor expressions, and the linear
// layers and the LM head go through oneDNN with pre-packed weights (models/packed_linear.h).
#include "models/transformer.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "core/error.h"
#include "models/decode_attention.h"
#include "models/logprobs.h"
#include "models/packed_linear.h"

namespace anvil {
namespace {

using torch::nn::Module;

// A linear layer y = x W^T + b with HF's parameter names ("weight", "bias").
struct Proj : Module {
    at::Tensor weight, bias;
    Proj(int64_t in, int64_t out, bool with_bias, const at::TensorOptions& o) {
        weight = register_parameter("weight", at::zeros({out, in}, o));
        if (with_bias) bias = register_parameter("bias", at::zeros({out}, o));
    }
    at::Tensor operator()(const at::Tensor& x) const {
        if (PackedLinearWeight::applies(x, weight)) return packed.linear(x, weight, bias);
        return at::linear(x, weight, bias);
    }

private:
    mutable PackedLinearWeight packed;  // inference only; see models/packed_linear.h
};

// RMSNorm computed in fp32 and cast back before the weight multiply (LlamaRMSNorm).
struct RMSNorm : Module {
    at::Tensor weight;
    double eps;
    RMSNorm(int64_t dim, double eps_, const at::TensorOptions& o) : eps(eps_) {
        weight = register_parameter("weight", at::ones({dim}, o));
    }
    at::Tensor operator()(const at::Tensor& x) const {
        at::Tensor h = x.to(at::kFloat);
        at::Tensor mean_square = h.pow(2).mean({-1}, true);
        if (fused_cpu_fp32(x)) return scale_rows(h, mean_square);
        h = h * at::rsqrt(mean_square + eps);
        return weight * h.to(x.scalar_type());
    }

private:
    bool fused_cpu_fp32(const at::Tensor& x) const {
        return x.is_cpu() && x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat &&
               x.is_contiguous() && !(at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()));
    }
    // weight * (h * rsqrt(mean_square + eps)) in one pass, rounding each step as the tensor ops do (eps as
    // float, rsqrt as 1 / sqrt): the same bits wherever the compiler does not contract to FMA.
    at::Tensor scale_rows(const at::Tensor& h, const at::Tensor& mean_square) const {
        const int64_t dim = h.size(-1), rows = h.numel() / dim;
        at::Tensor out = at::empty_like(h);
        const float* hp = h.const_data_ptr<float>();
        const float* mp = mean_square.const_data_ptr<float>();
        const float* wp = weight.const_data_ptr<float>();
        float* op = out.data_ptr<float>();
        const float eps_f = static_cast<float>(eps);
        at::parallel_for(0, rows, at::internal::GRAIN_SIZE / dim, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r) {
                const float inv = 1.f / std::sqrt(mp[r] + eps_f);
                for (int64_t d = 0; d < dim; ++d) {
                    const float normed = hp[r * dim + d] * inv;
                    op[r * dim + d] = wp[d] * normed;
                }
            }
        });
        return out;
    }
};

struct Embedding : Module {
    at::Tensor weight;
    Embedding(int64_t vocab, int64_t dim, const at::TensorOptions& o) {
        weight = register_parameter("weight", at::zeros({vocab, dim}, o));
    }
};

// What every attention layer of one forward shares.
struct AttentionContext {
    at::Tensor cos, sin;  // [B, 1, T, head_dim], model dtype
    at::Tensor mask;      // [B, 1, T, L] bool (true = attend) or undefined
    bool is_causal = false;
    KVCache* cache = nullptr;
    int64_t offset = 0;  // first cache slot of this forward's tokens
    // One new token over a CPU fp32 cache: decode_attention serves the layers where it applies, reading
    // key_valid ([B, L] bool, the cache's slot mask); `mask` is built only if some layer may need SDPA.
    bool decode = false;
    at::Tensor key_valid;

    std::optional<at::Tensor> attn_mask() const { return mask.defined() ? std::optional(mask) : std::nullopt; }
};

at::Tensor rotate_half(const at::Tensor& x) {
    int64_t half = x.size(-1) / 2;
    return at::cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
}

// x * cos + rotate_half(x) * sin in one pass for CPU fp32 x [B, H, T, D] (unit last stride) and contiguous
// cos, sin [B, 1, T, D]: per element the same two products and one sum, each rounded as by the tensor ops
// (rotate_half's negation is exact), so the same bits wherever the compiler does not contract to FMA (the
// portable x86-64 build).
at::Tensor rope_cpu_fp32(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
    const int64_t heads = x.size(1), t = x.size(2), dim = x.size(3), half = dim / 2;
    at::Tensor out = at::empty_like(x);
    const float* xp = x.const_data_ptr<float>();
    const float* cp = cos.const_data_ptr<float>();
    const float* sp = sin.const_data_ptr<float>();
    float* op = out.data_ptr<float>();
    const int64_t xs0 = x.stride(0), xs1 = x.stride(1), xs2 = x.stride(2);
    const int64_t os0 = out.stride(0), os1 = out.stride(1), os2 = out.stride(2);
    const int64_t rows = x.size(0) * heads * t;
    at::parallel_for(0, rows, at::internal::GRAIN_SIZE / dim, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const int64_t b = r / (heads * t), h = r / t % heads, i = r % t;
            const float* xr = xp + b * xs0 + h * xs1 + i * xs2;
            const float* c = cp + (b * t + i) * dim;
            const float* s = sp + (b * t + i) * dim;
            float* o = op + b * os0 + h * os1 + i * os2;
            for (int64_t d = 0; d < half; ++d) {
                const float lo = xr[d] * c[d], hi = xr[d + half] * s[d];
                o[d] = lo - hi;
            }
            for (int64_t d = half; d < dim; ++d) {
                const float lo = xr[d] * c[d], hi = xr[d - half] * s[d];
                o[d] = lo + hi;
            }
        }
    });
    return out;
}

at::Tensor apply_rope(const at::Tensor& x, const AttentionContext& ctx) {
    if (x.is_cpu() && x.scalar_type() == at::kFloat && x.stride(3) == 1 && ctx.cos.is_contiguous() &&
        ctx.sin.is_contiguous() && !(at::GradMode::is_enabled() && x.requires_grad()))
        return rope_cpu_fp32(x, ctx.cos, ctx.sin);
    return x * ctx.cos + rotate_half(x) * ctx.sin;
}

struct Attention : Module {
    int64_t heads, kv_heads, head_dim, layer;
    std::shared_ptr<Proj> q_proj, k_proj, v_proj, o_proj;
    std::shared_ptr<RMSNorm> q_norm, k_norm;

    Attention(const ModelConfig& c, int64_t layer_, const at::TensorOptions& o)
        : heads(c.num_attention_heads), kv_heads(c.num_key_value_heads), head_dim(c.head_dim), layer(layer_) {
        bool qkv_bias = c.attention_bias || c.qkv_bias;
        q_proj = register_module("q_proj", std::make_shared<Proj>(c.hidden_size, heads * head_dim, qkv_bias, o));
        k_proj = register_module("k_proj", std::make_shared<Proj>(c.hidden_size, kv_heads * head_dim, qkv_bias, o));
        v_proj = register_module("v_proj", std::make_shared<Proj>(c.hidden_size, kv_heads * head_dim, qkv_bias, o));
        o_proj =
            register_module("o_proj", std::make_shared<Proj>(heads * head_dim, c.hidden_size, c.attention_bias, o));
        if (c.qk_norm) {
            q_norm = register_module("q_norm", std::make_shared<RMSNorm>(head_dim, c.rms_norm_eps, o));
            k_norm = register_module("k_norm", std::make_shared<RMSNorm>(head_dim, c.rms_norm_eps, o));
        }
    }

    at::Tensor operator()(const at::Tensor& x, const AttentionContext& ctx) const {
        const int64_t b = x.size(0), t = x.size(1);
        at::Tensor q = (*q_proj)(x).view({b, t, heads, head_dim});
        at::Tensor k = (*k_proj)(x).view({b, t, kv_heads, head_dim});
        at::Tensor v = (*v_proj)(x).view({b, t, kv_heads, head_dim}).transpose(1, 2);
        if (q_norm) {  // Qwen3: per-head RMSNorm over head_dim, before RoPE
            q = (*q_norm)(q);
            k = (*k_norm)(k);
        }
        q = apply_rope(q.transpose(1, 2), ctx);
        k = apply_rope(k.transpose(1, 2), ctx);
        if (ctx.cache != nullptr) {
            at::Tensor& kc = ctx.cache->keys[layer];
            at::Tensor& vc = ctx.cache->values[layer];
            kc.narrow(2, ctx.offset, t).copy_(k);
            vc.narrow(2, ctx.offset, t).copy_(v);
            if (ctx.decode && decode_attention_applies(q, kc, vc)) {
                at::Tensor out = decode_attention(q, kc, vc, ctx.offset + 1, ctx.key_valid);
                return (*o_proj)(out.view({b, 1, heads * head_dim}));
            }
            k = kc.narrow(2, 0, ctx.offset + t);
            v = vc.narrow(2, 0, ctx.offset + t);
        }
        at::Tensor out = at::scaled_dot_product_attention(q, k, v, ctx.attn_mask(), 0.0, ctx.is_causal, std::nullopt,
                                                          kv_heads != heads);
        return (*o_proj)(out.transpose(1, 2).reshape({b, t, heads * head_dim}));
    }
};

struct Mlp : Module {
    std::shared_ptr<Proj> gate_proj, up_proj, down_proj;
    Mlp(const ModelConfig& c, const at::TensorOptions& o) {
        gate_proj =
            register_module("gate_proj", std::make_shared<Proj>(c.hidden_size, c.intermediate_size, c.mlp_bias, o));
        up_proj = register_module("up_proj", std::make_shared<Proj>(c.hidden_size, c.intermediate_size, c.mlp_bias, o));
        down_proj =
            register_module("down_proj", std::make_shared<Proj>(c.intermediate_size, c.hidden_size, c.mlp_bias, o));
    }
    at::Tensor operator()(const at::Tensor& x) const { return (*down_proj)(at::silu((*gate_proj)(x)) * (*up_proj)(x)); }
};

struct DecoderLayer : Module {
    std::shared_ptr<RMSNorm> input_layernorm, post_attention_layernorm;
    std::shared_ptr<Attention> self_attn;
    std::shared_ptr<Mlp> mlp;
    DecoderLayer(const ModelConfig& c, int64_t layer, const at::TensorOptions& o) {
        input_layernorm =
            register_module("input_layernorm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps, o));
        self_attn = register_module("self_attn", std::make_shared<Attention>(c, layer, o));
        post_attention_layernorm =
            register_module("post_attention_layernorm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps, o));
        mlp = register_module("mlp", std::make_shared<Mlp>(c, o));
    }
    at::Tensor operator()(at::Tensor h, const AttentionContext& ctx) const {
        h = h + (*self_attn)((*input_layernorm)(h), ctx);
        return h + (*mlp)((*post_attention_layernorm)(h));
    }
};

struct Body : Module {
    std::shared_ptr<Embedding> embed_tokens;
    std::vector<std::shared_ptr<DecoderLayer>> layers;
    std::shared_ptr<RMSNorm> norm;
    Body(const ModelConfig& c, const at::TensorOptions& o) {
        embed_tokens = register_module("embed_tokens", std::make_shared<Embedding>(c.vocab_size, c.hidden_size, o));
        auto list = register_module("layers", std::make_shared<Module>());
        for (int64_t i = 0; i < c.num_hidden_layers; ++i)
            layers.push_back(list->register_module(std::to_string(i), std::make_shared<DecoderLayer>(c, i, o)));
        norm = register_module("norm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps, o));
    }
};

Body& body_of(const std::shared_ptr<Module>& m) {
    return static_cast<Body&>(*m);
}

void check_tokens_shape(const at::Tensor& t, const at::Tensor& ids, const char* name) {
    if (!t.defined()) return;
    ANVIL_CHECK(t.sizes() == ids.sizes(), "transformer forward: ", name, " has shape ", t.sizes(),
                " but input_ids has ", ids.sizes());
}

}  // namespace

at::Tensor rope_inv_freq(const ModelConfig& c) {
    const int64_t dim = c.head_dim;
    at::Tensor inv_freq =
        1.0 / at::pow(c.rope_theta, at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim));
    const RopeScaling& s = c.rope_scaling;
    if (s.type == RopeScaling::Type::linear) return inv_freq / s.factor;
    if (s.type != RopeScaling::Type::llama3) return inv_freq;
    // transformers modeling_rope_utils._compute_llama3_parameters.
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_freq_wavelen = old_len / s.low_freq_factor;
    const double high_freq_wavelen = old_len / s.high_freq_factor;
    at::Tensor wavelen = 2 * M_PI / inv_freq;
    at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
    at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    at::Tensor medium = (wavelen < high_freq_wavelen).logical_not() & (wavelen > low_freq_wavelen).logical_not();
    return at::where(medium, smoothed, scaled);
}

at::Tensor positions_from_documents(const at::Tensor& document_ids) {
    const int64_t t = document_ids.size(1);
    at::Tensor idx = at::arange(t, document_ids.options().dtype(at::kLong)).expand_as(document_ids);
    at::Tensor start = at::ones_like(document_ids, at::kBool);
    if (t > 1) start.narrow(1, 1, t - 1).copy_(document_ids.narrow(1, 1, t - 1) != document_ids.narrow(1, 0, t - 1));
    at::Tensor run_start = std::get<0>(at::cummax(at::where(start, idx, 0), 1));
    return idx - run_start;
}

TransformerImpl::TransformerImpl(ModelConfig config, at::TensorOptions options) : config_(std::move(config)) {
    config_.validate("transformer config");
    body_ = register_module("model", std::make_shared<Body>(config_, options));
    if (!config_.tie_word_embeddings)
        lm_head_ =
            register_module("lm_head", std::make_shared<Proj>(config_.hidden_size, config_.vocab_size, false, options))
                ->weight;
    inv_freq_ = rope_inv_freq(config_);
}

at::Tensor TransformerImpl::lm_head_weight() {
    return lm_head_.defined() ? lm_head_ : body_of(body_).embed_tokens->weight;
}

at::ScalarType TransformerImpl::dtype() const {
    return body_of(body_).embed_tokens->weight.scalar_type();
}
at::Device TransformerImpl::device() const {
    return body_of(body_).embed_tokens->weight.device();
}

KVCache TransformerImpl::make_cache(int64_t batch, int64_t capacity) const {
    ANVIL_CHECK(batch > 0 && capacity > 0, "make_cache: batch and capacity must be positive");
    at::TensorOptions o = at::TensorOptions().dtype(dtype()).device(device());
    KVCache cache;
    for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
        cache.keys.push_back(at::zeros({batch, config_.num_key_value_heads, capacity, config_.head_dim}, o));
        cache.values.push_back(at::zeros({batch, config_.num_key_value_heads, capacity, config_.head_dim}, o));
    }
    cache.key_mask = at::zeros({batch, capacity}, o.dtype(at::kBool));
    cache.next_position = at::zeros({batch}, o.dtype(at::kLong));
    return cache;
}

at::Tensor TransformerImpl::forward(const at::Tensor& input_ids, const ForwardArgs& args) {
    Body& body = body_of(body_);
    ANVIL_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == at::kLong,
                "transformer forward: input_ids must be int64 [B, T], got ", input_ids.sizes(), " ",
                input_ids.scalar_type());
    const int64_t b = input_ids.size(0), t = input_ids.size(1);
    ANVIL_CHECK(b > 0 && t > 0, "transformer forward: empty batch ", input_ids.sizes());
    ANVIL_CHECK(input_ids.min().item<int64_t>() >= 0 && input_ids.max().item<int64_t>() < config_.vocab_size,
                "transformer forward: token id out of range [0, ", config_.vocab_size, ")");
    check_tokens_shape(args.attention_mask, input_ids, "attention_mask");
    check_tokens_shape(args.position_ids, input_ids, "position_ids");
    check_tokens_shape(args.document_ids, input_ids, "document_ids");
    KVCache* cache = args.cache;
    ANVIL_CHECK(!(cache && args.document_ids.defined()), "transformer forward: document_ids with a KV cache");
    const int64_t offset = cache ? cache->length : 0;
    const int64_t total = offset + t;
    if (cache)
        ANVIL_CHECK(cache->batch() == b && total <= cache->capacity(), "transformer forward: ", t, " tokens for batch ",
                    b, " do not fit the KV cache (batch ", cache->batch(), ", ", cache->length, " of ",
                    cache->capacity(), " slots used)");
    if (config_.sliding_window)
        ANVIL_CHECK(total <= *config_.sliding_window, "transformer forward: ", total,
                    " tokens exceed the sliding window ", *config_.sliding_window,
                    " (sliding-window attention is not implemented)");

    const at::TensorOptions long_opts = input_ids.options();
    at::Tensor new_mask = args.attention_mask.defined() ? args.attention_mask.to(at::kBool)
                                                        : at::ones({b, t}, long_opts.dtype(at::kBool));
    at::Tensor key_valid = new_mask;
    if (cache) {
        cache->key_mask.narrow(1, offset, t).copy_(new_mask);
        key_valid = cache->key_mask.narrow(1, 0, total);
    }

    at::Tensor positions = args.position_ids;
    if (!positions.defined()) {
        if (args.document_ids.defined()) {
            positions = positions_from_documents(args.document_ids);
        } else {
            positions = (new_mask.to(at::kLong).cumsum(1) - 1).clamp_min(0);
            if (cache) positions = positions + cache->next_position.unsqueeze(1);
        }
    }
    if (cache) cache->next_position.add_(new_mask.to(at::kLong).sum(1));

    AttentionContext ctx;
    ctx.cache = cache;
    ctx.offset = offset;
    if (inv_freq_.device() != input_ids.device()) inv_freq_ = inv_freq_.to(input_ids.device());
    at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;
    at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1);
    ctx.cos = emb.cos().to(dtype());
    ctx.sin = emb.sin().to(dtype());

    ctx.decode = cache && t == 1 && device().is_cpu() && dtype() == at::kFloat;
    ctx.key_valid = key_valid;
    // Without grad mode decode_attention serves every layer of a decode step, which needs no SDPA mask.
    const bool sdpa_possible = !ctx.decode || at::GradMode::is_enabled();
    if (sdpa_possible) {
        const bool all_valid = key_valid.all().item<bool>();
        if (all_valid && !args.document_ids.defined() && (t == 1 || offset == 0)) {
            ctx.is_causal = t > 1;  // a single new token attends to every slot; a fresh block is plain causal
        } else {
            at::Tensor q_slot = at::arange(offset, total, long_opts).unsqueeze(1);
            at::Tensor k_slot = at::arange(total, long_opts).unsqueeze(0);
            at::Tensor m = (k_slot <= q_slot).unsqueeze(0) & key_valid.unsqueeze(1);
            if (args.document_ids.defined())
                m = m & (args.document_ids.unsqueeze(2) == args.document_ids.unsqueeze(1));
            // Every query may see itself, so padding rows are never fully masked (no NaN from SDPA).
            m = m | (k_slot == q_slot).unsqueeze(0);
            ctx.mask = m.unsqueeze(1);
        }
    }

    at::Tensor h = at::embedding(body.embed_tokens->weight, input_ids);
    for (const auto& layer : body.layers) h = (*layer)(h, ctx);
    if (cache) cache->length = total;
    return (*body.norm)(h);
}

at::Tensor TransformerImpl::logits(const at::Tensor& hidden) {
    const at::Tensor weight = lm_head_weight();
    if (PackedLinearWeight::applies(hidden, weight)) return lm_head_packed_.linear(hidden, weight, {});
    return at::linear(hidden, weight);
}

at::Tensor TransformerImpl::token_logprobs(const at::Tensor& hidden, const at::Tensor& targets, int64_t chunk_tokens) {
    return chunked_token_logprobs(hidden, lm_head_weight(), targets, chunk_tokens);
}

std::vector<std::pair<std::string, at::Tensor>> TransformerImpl::hf_parameters() {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const auto& item : named_parameters(true)) out.emplace_back(item.key(), item.value());
    return out;
}

}  // namespace anvil
