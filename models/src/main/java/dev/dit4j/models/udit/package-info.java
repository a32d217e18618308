/**
 * U-DiT's building blocks: its blocks, downsampled attention with 2-d RoPE, re-parameterisable
 * feed-forward, and the U-Net's down- and upsampling.
 */
package dev.dit4j.models.udit;
