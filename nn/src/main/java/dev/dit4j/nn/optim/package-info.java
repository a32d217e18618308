/**
 * Optimisers on libtorch's fused multi-tensor kernels (AdamW) and the exponential moving average of a
 * model's parameters.
 */
package dev.dit4j.nn.optim;
