/**
 * MicroDiT's building blocks: its blocks, attention, feed-forward layers (SwiGLU and expert-choice
 * mixture of experts), caption pre-processing and deferred token masking.
 */
package dev.dit4j.models.microdit;
