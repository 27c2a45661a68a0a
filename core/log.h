// Anvil's logging front: leveled messages to the terminal (stderr) and, once a run directory exists, to
// its log.txt; a rank prefix once distributed; and one live status line (the progress display) that log
// messages never garble. spdlog does the writing, but only log.cpp sees it: spdlog's fmt and the fmt
// shipped inside LibTorch's headers must never meet in one translation unit (DESIGN.md, known traps).
#pragma once

#include <string>

#include "core/error.h"

namespace anvil::log {

enum class Level { debug, info, warn, error };

// Parses "debug" | "info" | "warn" | "error"; throws UsageError otherwise.
Level parse_level(const std::string& name);
void set_level(Level level);

// Prefixes every line with "[rank R]" when world_size > 1.
void set_rank(int rank, int world_size);

// Also appends every message (without colours or status lines) to `path`.
void add_file(const std::string& path);
// Stops writing to the file added last (e.g. when a run ends inside a longer-lived process).
void close_file();

void write(Level level, const std::string& message);

// Sets the live status line shown under the log on a terminal; "" removes it. Not written to files.
void status(const std::string& line);

// True when stderr is a terminal (live status lines are possible).
bool stderr_is_terminal();

template <class... A> void debug(A&&... a) { write(Level::debug, str(std::forward<A>(a)...)); }
template <class... A> void info(A&&... a) { write(Level::info, str(std::forward<A>(a)...)); }
template <class... A> void warn(A&&... a) { write(Level::warn, str(std::forward<A>(a)...)); }
template <class... A> void error(A&&... a) { write(Level::error, str(std::forward<A>(a)...)); }

}  // namespace anvil::log
