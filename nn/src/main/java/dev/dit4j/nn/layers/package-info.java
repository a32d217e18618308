/**
 * Standard layers with PyTorch's parameter names and initialisations: linear, convolution, embedding,
 * norms, MLP and self-attention. Each layer's {@code Options} record is its {@link dev.dit4j.nn.ModuleSpec};
 * the {@code *OptionsBuilder} classes are generated (record-builder) and give those records their
 * builders and {@code with...} methods.
 */
package dev.dit4j.nn.layers;
