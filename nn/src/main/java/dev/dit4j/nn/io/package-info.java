/**
 * Reading and writing tensors and checkpoints: safetensors, PyTorch's {@code torch.save} format,
 * NumPy {@code .npz} files, and atomic file writes.
 */
package dev.dit4j.nn.io;
