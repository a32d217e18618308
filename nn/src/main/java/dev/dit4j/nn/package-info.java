/**
 * Tensors and neural-network building blocks over libtorch: {@link dev.dit4j.nn.Tensor} with autograd,
 * {@link dev.dit4j.nn.TensorScope} for ownership, devices and dtypes, {@link dev.dit4j.nn.Functional} ops,
 * {@link dev.dit4j.nn.Module}s built under a {@link dev.dit4j.nn.VarBuilder} with PyTorch's state-dict names,
 * mixed precision, CUDA graphs, profiling and FLOP counting.
 */
package dev.dit4j.nn;
