/**
 * Diffusion transformers: DiT, U-ViT, U-DiT and MicroDiT, each with its configuration and presets,
 * behind {@link dev.dit4j.models.DiffusionModel}; conditioning (class labels, captions), classifier-free
 * guidance and weights loading. The {@code *ConfigBuilder} classes are generated (record-builder) and
 * give the configuration records their builders and {@code with...} methods.
 */
package dev.dit4j.models;
