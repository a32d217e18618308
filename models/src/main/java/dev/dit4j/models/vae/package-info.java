/**
 * The KL autoencoder of latent diffusion ({@link dev.dit4j.models.vae.AutoencoderKL}): encoding images to
 * latents and decoding them, with chunking to bound memory, and its training.
 */
package dev.dit4j.models.vae;
