/**
 * Embeddings shared by the diffusion transformers: sinusoidal timestep and position tables, timestep and
 * label embedders, and adaLN-Zero modulation.
 */
package dev.dit4j.models.embed;
