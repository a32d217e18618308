/**
 * Training: each family's objective, {@link dev.dit4j.models.train.DiffusionTrainer}, the
 * {@link dev.dit4j.models.train.TrainingLoop} with checkpoints and resumption, learning-rate schedules and
 * data-parallel jobs.
 */
package dev.dit4j.models.train;
