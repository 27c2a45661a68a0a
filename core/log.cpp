// Implementation of core/log.h on spdlog. This translation unit must not include LibTorch headers.
#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace anvil::log {
namespace {

struct State {
    std::mutex mutex;
    std::shared_ptr<spdlog::logger> console;
    std::shared_ptr<spdlog::logger> file;
    std::string prefix;
    std::string status_line;
    bool status_shown = false;
    Level level = Level::info;
};

State& state() {
    static State* s = [] {
        auto* st = new State();
        auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        st->console = std::make_shared<spdlog::logger>("anvil", sink);
        st->console->set_pattern("%^[%H:%M:%S %L]%$ %v");
        st->console->set_level(spdlog::level::trace);
        return st;
    }();
    return *s;
}

spdlog::level::level_enum to_spdlog(Level level) {
    switch (level) {
        case Level::debug: return spdlog::level::debug;
        case Level::info: return spdlog::level::info;
        case Level::warn: return spdlog::level::warn;
        case Level::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}

void clear_status_locked(State& s) {
    if (s.status_shown) {
        std::fputs("\r\033[2K", stderr);
        s.status_shown = false;
    }
}

void draw_status_locked(State& s) {
    if (s.status_line.empty()) return;
    std::fputs(s.status_line.c_str(), stderr);
    std::fflush(stderr);
    s.status_shown = true;
}

}  // namespace

Level parse_level(const std::string& name) {
    if (name == "debug") return Level::debug;
    if (name == "info") return Level::info;
    if (name == "warn") return Level::warn;
    if (name == "error") return Level::error;
    throw UsageError(str("unknown log level '", name, "' (expected debug, info, warn or error)"));
}

void set_level(Level level) {
    std::lock_guard lock(state().mutex);
    state().level = level;
}

void set_rank(int rank, int world_size) {
    std::lock_guard lock(state().mutex);
    state().prefix = world_size > 1 ? str("[rank ", rank, "] ") : "";
}

void add_file(const std::string& path) {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
    auto logger = std::make_shared<spdlog::logger>("anvil-file", sink);
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e %L] %v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    std::lock_guard lock(state().mutex);
    state().file = logger;
}

void close_file() {
    std::lock_guard lock(state().mutex);
    if (state().file) state().file->flush();
    state().file.reset();
}

void write(Level level, const std::string& message) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (level < s.level) return;
    clear_status_locked(s);
    s.console->log(to_spdlog(level), "{}{}", s.prefix, message);
    s.console->flush();
    if (s.file) s.file->log(to_spdlog(level), "{}{}", s.prefix, message);
    draw_status_locked(s);
}

void status(const std::string& line) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    clear_status_locked(s);
    s.status_line = line.empty() ? "" : s.prefix + line;
    draw_status_locked(s);
}

bool stderr_is_terminal() { return isatty(fileno(stderr)) != 0; }

}  // namespace anvil::log
