/**
 * Text conditioning: CLIP's tokenizer and text encoder (transformers' and open_clip's layouts), caption
 * files and caption embeddings as conditioning.
 */
package dev.dit4j.models.text;
