/**
 * Parameter and multiply-accumulate counts of a model's forward pass, for FLOP tables.
 */
package dev.dit4j.models.flops;
