/**
 * Diffusion processes: ADM's Gaussian diffusion with timestep respacing, and EDM's formulation.
 */
package dev.dit4j.models.diffusion;
