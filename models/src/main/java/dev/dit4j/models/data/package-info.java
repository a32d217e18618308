/**
 * Training data: datasets (Fashion-MNIST, image folders, captioned images, pre-extracted latents,
 * in-memory tensors), the background {@link dev.dit4j.models.data.BatchLoader}, and image conversions and
 * resizing as the reference code does them.
 */
package dev.dit4j.models.data;
