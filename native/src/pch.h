// Precompiled header for the shim (CMake target_precompile_headers): the heavy libtorch headers
// every translation unit needs, parsed once per build instead of once per file.
#pragma once
#include <ATen/ATen.h>
