/**
 * Text conditioning: CLIP's tokenizer and text encoder (transformers' and open_clip's layouts), caption
 * files and caption embeddings as conditioning; and CLIP's image tower (both layouts) with its
 * preprocessing, for the CLIP score of text-to-image samples ({@link dev.dit4j.models.eval.ClipScore}).
 */
package dev.dit4j.models.text;
