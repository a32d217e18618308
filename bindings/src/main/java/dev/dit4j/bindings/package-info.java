/**
 * libtorch through the Foreign Function and Memory API: the loader that finds libtorch and dit4j's
 * shim ({@link dev.dit4j.bindings.NativeLoader}), the checked facade the rest of dit4j calls
 * ({@link dev.dit4j.bindings.LibTorch}), libtorch's errors as {@link dev.dit4j.bindings.TorchException}
 * and the per-user cache. The raw jextract output ({@code dev.dit4j.bindings.shim},
 * {@code dev.dit4j.bindings.cudnn}) is generated code, not documented here: reach it through this package.
 */
package dev.dit4j.bindings;
