/**
 * Sampling from a weights file as the model's authors do: {@link dev.dit4j.models.pipeline.DiffusionPipeline}
 * probes the family and configuration, then draws {@link dev.dit4j.models.pipeline.SampleRequest}s.
 */
package dev.dit4j.models.pipeline;
