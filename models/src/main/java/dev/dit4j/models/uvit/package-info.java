/**
 * U-ViT's transformer block, with the long skips of its U-shaped layout.
 */
package dev.dit4j.models.uvit;
