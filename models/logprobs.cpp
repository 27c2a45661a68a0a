// Chunked token log-probabilities with a recomputing backward; see logprobs.h.
#include "models/logprobs.h"

#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/error.h"

namespace anvil {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

int64_t rows_per_chunk(int64_t chunk_tokens, int64_t vocab) {
    if (chunk_tokens > 0) return chunk_tokens;
    return std::max<int64_t>(1, (int64_t{256} << 20) / (4 * vocab));
}

class ChunkedLogprobs : public torch::autograd::Function<ChunkedLogprobs> {
public:
    // hidden [N, H], weight [V, H], targets [N] -> [N] fp32. When all N rows fit in one chunk, that chunk's
    // log-softmax is kept for backward (no more memory than backward's recomputed chunk would take);
    // otherwise backward recomputes the logits chunk by chunk.
    static at::Tensor forward(AutogradContext* ctx, at::Tensor hidden, at::Tensor weight, at::Tensor targets,
                              int64_t chunk) {
        const int64_t n = hidden.size(0);
        at::Tensor valid = targets.ge(0);
        at::Tensor safe = targets.clamp_min(0);
        at::Tensor out = at::empty({n}, hidden.options().dtype(at::kFloat));
        at::Tensor kept;
        for (int64_t s = 0; s < n; s += chunk) {
            int64_t len = std::min(chunk, n - s);
            at::Tensor logp = at::log_softmax(at::linear(hidden.narrow(0, s, len), weight).to(at::kFloat), -1);
            out.narrow(0, s, len).copy_(logp.gather(-1, safe.narrow(0, s, len).unsqueeze(-1)).squeeze(-1));
            if (len == n) kept = logp;
        }
        out.masked_fill_(valid.logical_not(), 0.0);
        ctx->save_for_backward({hidden, weight, safe, valid, kept});
        ctx->saved_data["chunk"] = chunk;
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        auto saved = ctx->get_saved_variables();
        const at::Tensor &hidden = saved[0], &weight = saved[1], &safe = saved[2], &valid = saved[3], &kept = saved[4];
        const int64_t chunk = ctx->saved_data["chunk"].toInt();
        at::Tensor g = grad_outputs[0].to(at::kFloat) * valid.to(at::kFloat);
        const bool need_h = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1);
        const int64_t n = hidden.size(0);
        at::Tensor grad_h = need_h ? at::empty_like(hidden) : at::Tensor();
        at::Tensor grad_w;
        for (int64_t s = 0; s < n; s += chunk) {
            int64_t len = std::min(chunk, n - s);
            at::Tensor h = hidden.narrow(0, s, len);
            at::Tensor gs = g.narrow(0, s, len).unsqueeze(-1);
            // d(log_softmax(logits)[t])/d logits = onehot(t) - softmax(logits).
            at::Tensor probs = kept.defined() ? kept.exp() : at::softmax(at::linear(h, weight).to(at::kFloat), -1);
            at::Tensor grad_logits = probs.mul_(gs).neg_().scatter_add_(-1, safe.narrow(0, s, len).unsqueeze(-1), gs);
            if (need_h) grad_h.narrow(0, s, len).copy_(at::matmul(grad_logits.to(weight.scalar_type()), weight));
            if (need_w) {
                if (grad_w.defined())
                    grad_w.addmm_(grad_logits.t(), h.to(at::kFloat));
                else
                    grad_w = at::mm(grad_logits.t(), h.to(at::kFloat));
            }
        }
        return {grad_h, need_w ? grad_w.to(weight.scalar_type()) : at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

}  // namespace

at::Tensor chunked_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                  int64_t chunk_tokens) {
    ANVIL_CHECK(hidden.dim() >= 1 && hidden.size(-1) == weight.size(1), "token_logprobs: hidden size ", hidden.sizes(),
                " does not match the LM head ", weight.sizes());
    ANVIL_CHECK(targets.sizes() == hidden.sizes().slice(0, hidden.dim() - 1), "token_logprobs: targets ",
                targets.sizes(), " do not match hidden ", hidden.sizes());
    ANVIL_CHECK(targets.scalar_type() == at::kLong, "token_logprobs: targets must be int64");
    if (targets.numel() > 0)
        ANVIL_CHECK(targets.max().item<int64_t>() < weight.size(0), "token_logprobs: target id ",
                    targets.max().item<int64_t>(), " >= vocab size ", weight.size(0));
    at::Tensor flat = hidden.reshape({-1, hidden.size(-1)});
    at::Tensor head = weight;
    // Under autocast the LM head runs in the autocast dtype like any linear layer; casting before the custom
    // function makes its backward recompute the very logits its forward saw.
    const c10::DeviceType device_type = hidden.device().type();
    if (at::autocast::is_autocast_available(device_type) && at::autocast::is_autocast_enabled(device_type)) {
        const at::ScalarType dtype = at::autocast::get_autocast_dtype(device_type);
        flat = flat.to(dtype);
        head = head.to(dtype);
    }
    at::Tensor out =
        ChunkedLogprobs::apply(flat, head, targets.reshape({-1}), rows_per_chunk(chunk_tokens, weight.size(0)));
    return out.view(targets.sizes());
}

at::Tensor chunked_token_entropy(const at::Tensor& hidden, const at::Tensor& weight, int64_t chunk_tokens) {
    ANVIL_CHECK(hidden.dim() >= 1 && hidden.size(-1) == weight.size(1), "token_entropy: hidden size ", hidden.sizes(),
                " does not match the LM head ", weight.sizes());
    at::NoGradGuard no_grad;
    at::Tensor flat = hidden.reshape({-1, hidden.size(-1)});
    const int64_t n = flat.size(0), chunk = rows_per_chunk(chunk_tokens, weight.size(0));
    at::Tensor out = at::empty({n}, flat.options().dtype(at::kFloat));
    for (int64_t s = 0; s < n; s += chunk) {
        const int64_t len = std::min(chunk, n - s);
        at::Tensor logp = at::log_softmax(at::linear(flat.narrow(0, s, len), weight).to(at::kFloat), -1);
        out.narrow(0, s, len).copy_(-(logp.exp() * logp).sum(-1));
    }
    return out.reshape(hidden.sizes().slice(0, hidden.dim() - 1));
}

}  // namespace anvil
