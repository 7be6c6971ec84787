// fuzz_targets.h -- nothing to include: each fuzz_*.cpp defines LLVMFuzzerTestOneInput.
// They are built two ways: with -fsanitize=fuzzer (MAILGRANT_FUZZ=ON, clang) for real
// fuzzing, and always with replay_main.cpp, which CTest runs over the seed corpus so a
// target that stops compiling or crashes on a known input fails the ordinary test run.
#pragma once
#include <cstddef>
#include <cstdint>
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
