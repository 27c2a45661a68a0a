// TOML front end of the config system: parses TOML files into the parser-neutral config::Value tree (with
// file:line:col positions) and applies `--set path.to.key=value` overrides to that tree. Which sections
// and keys exist is not known here (see trainer/experiment.h); only TOML syntax is.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/config_schema.h"

namespace anvil::config {

// Parses a TOML document; a syntax error is a UsageError "file:line:col: TOML syntax error: ...".
Value parse_toml_file(const std::filesystem::path& path);
Value parse_toml_text(std::string_view text, const std::string& source_name);

// Applies one override "a.b.c=value" to a parsed document. The value is read as a TOML value (so
// `--set run.seed=7` is an integer and `--set run.name="x"` a string); text that is not a TOML value is
// taken as a string (`--set run.name=x`). `stage.<index or name>.key` addresses one [[stage]] table.
void apply_override(Value& root, const std::string& assignment);

}  // namespace anvil::config
