/**
 * Distributed training: c10d process groups (Gloo, NCCL), the rendezvous that torchrun and SLURM
 * describe, collectives in flight and data-parallel training as PyTorch's DistributedDataParallel.
 */
package dev.dit4j.nn.dist;
