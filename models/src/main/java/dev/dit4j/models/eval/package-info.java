/**
 * Measuring what a model learned, as the papers compute it: pytorch-fid's Inception
 * ({@link dev.dit4j.models.eval.InceptionV3}), the Fréchet distance (FID, sFID), the Inception
 * Score and precision/recall of ADM's evaluation suite, over ADM's {@code .npz} sample files or
 * image folders ({@link dev.dit4j.models.eval.Evaluator}); the CLIP score of text-to-image samples
 * ({@link dev.dit4j.models.eval.ClipScore}); FID on any feature map every K training steps
 * ({@link dev.dit4j.models.eval.FidHook}).
 */
package dev.dit4j.models.eval;
