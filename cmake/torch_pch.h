// The LibTorch headers precompiled once and reused by every target that includes LibTorch.
// Sources still include what they use; this only makes those includes cheap.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/embedding.h>
#include <torch/optim/adamw.h>
