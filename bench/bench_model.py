"""The random ~19M-parameter Qwen3-style model the Python benchmark halves share (vocab 32000, hidden 256,
14 layers, 4 heads / 2 KV heads, head_dim 64, tied embeddings), built with transformers from a fixed seed."""
import torch
from transformers import AutoModelForCausalLM, Qwen3Config


def make_bench_model(seed=1):
    torch.manual_seed(seed)
    cfg = Qwen3Config(vocab_size=32000, hidden_size=256, intermediate_size=768, num_hidden_layers=14,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=64, tie_word_embeddings=True,
                      max_position_embeddings=4096, rope_parameters={"rope_type": "default", "rope_theta": 1e6})
    return AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
