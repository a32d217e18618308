/**
 * Samplers that turn noise into samples: DDPM and DDIM, DPM-Solver++ and EDM's sampler, with the noise
 * schedules and time conventions they need.
 */
package dev.dit4j.models.sampling;
