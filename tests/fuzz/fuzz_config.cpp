// Fuzz target: the YAML config parser must only ever throw ConfigError.
#include <string>

#include "fuzz_targets.h"
#include "mailgrant/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        mailgrant::parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    } catch (const mailgrant::ConfigError&) {
    }
    return 0;
}
