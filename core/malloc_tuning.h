// Process-wide glibc malloc settings for tensor workloads. A training or decoding step frees and
// reallocates the same large tensors (logits, activations, gradients) every step; by default glibc serves
// each block above its mmap threshold (at most 32 MiB) with a fresh mapping and returns it on free, so
// every step pays page faults and zeroing for memory it just released (about 15% of a CPU training step
// of the benchmark model, bench/README.md). Keeping such blocks in the heap makes them reusable, as
// PyTorch's caching allocators do on GPUs. The cost: freed memory stays with the process.
#pragma once

namespace anvil {

// Serves all allocations from the heap (no per-block mmap) and never trims freed memory back to the
// kernel. Call once, early in main.
void keep_freed_memory_for_reuse();

}  // namespace anvil
