// Unit tests for the external-process protocol: the Python example environment plays full episodes and
// scores completions; a crashing, a hanging, a garbage-writing and an error-reporting child each become a
// clear anvil::Error with the child's stderr tail, and this process stays healthy.
#include <gtest/gtest.h>

#include <chrono>

#include "core/error.h"
#include "environments/external.h"
#include "environments/sandbox.h"

namespace anvil::env {

namespace {

ExternalOptions example() {
    ExternalOptions o;
    o.command = {default_python(), std::string(ANVIL_SOURCE_DIR) + "/environments/examples/guess_number.py"};
    o.request_timeout_seconds = 10;
    return o;
}

// A child that runs `body` (Python) after answering hello.
ExternalOptions inline_child(const std::string& body, double timeout = 10) {
    ExternalOptions o;
    o.command = {default_python(), "-c",
                 "import sys, json, time\n"
                 "sys.stdin.readline()\n"
                 "print(json.dumps({'protocol': 1, 'name': 'test'}), flush=True)\n"
                 "sys.stdin.readline()\n" +
                     body};
    o.request_timeout_seconds = timeout;
    return o;
}

Task number_task(int secret) {
    Task t;
    t.id = "n";
    t.prompt = "guess";
    t.answer = std::to_string(secret);
    return t;
}

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(External, ExampleEnvironmentPlaysEpisodes) {
    auto process = std::make_shared<ExternalProcess>(example());
    EXPECT_EQ(process->name(), "guess_number");
    ExternalEnvironment a(process), b(process);
    EXPECT_NE(a.reset(number_task(37)).find("between 1 and 100"), std::string::npos);
    b.reset(number_task(80));
    // Binary search on episode a, interleaved with a wrong first guess on episode b.
    auto r = b.step("50");
    EXPECT_FALSE(r.done);
    EXPECT_NE(r.observation.find("Higher"), std::string::npos);
    int lo = 1, hi = 100, steps = 0;
    StepResult last;
    while (true) {
        int guess = (lo + hi) / 2;
        last = a.step("My guess is " + std::to_string(guess));
        ++steps;
        if (last.done) break;
        if (last.observation.starts_with("Higher")) lo = guess + 1;
        else hi = guess - 1;
    }
    EXPECT_EQ(last.reward, 1.0);
    EXPECT_LE(steps, 7);
    auto spans = a.transcript();
    ASSERT_EQ(spans.size(), static_cast<size_t>(2 * steps));
    EXPECT_FALSE(spans[0].trainable);
    EXPECT_TRUE(spans[1].trainable);
    auto reward = external_reward(process);
    EXPECT_EQ(reward(number_task(12), "I say 12").score, 1.0);
    auto wrong = reward(number_task(12), "I say 13");
    EXPECT_EQ(wrong.score, 0.0);
    EXPECT_EQ(wrong.feedback, "Wrong number.");
}

TEST(External, CrashingChildIsAClearError) {
    auto process = std::make_shared<ExternalProcess>(inline_child(
        "print('Traceback: something broke in reset', file=sys.stderr)\nsys.exit(3)\n"));
    ExternalEnvironment env(process);
    std::string msg = error_of([&] { env.reset(number_task(1)); });
    EXPECT_NE(msg.find("closed its output instead of answering 'reset'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("exited with code 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("something broke in reset"), std::string::npos) << msg;
    // Later requests fail at once instead of hanging.
    EXPECT_NE(error_of([&] { env.reset(number_task(1)); }).find("failed earlier"), std::string::npos);
}

TEST(External, HangingChildTimesOut) {
    auto start = std::chrono::steady_clock::now();
    auto process = std::make_shared<ExternalProcess>(
        inline_child("print('about to hang', file=sys.stderr, flush=True)\ntime.sleep(1000)\n", 1.0));
    ExternalEnvironment env(process);
    std::string msg = error_of([&] { env.reset(number_task(1)); });
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_NE(msg.find("did not answer 'reset' within 1 s"), std::string::npos) << msg;
    EXPECT_NE(msg.find("was killed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("about to hang"), std::string::npos) << msg;
    EXPECT_LT(seconds, 5.0);
}

TEST(External, SilentChildThatNeverSaysHello) {
    ExternalOptions o;
    o.command = {default_python(), "-c", "import time\ntime.sleep(1000)\n"};
    o.startup_timeout_seconds = 0.5;
    std::string msg = error_of([&] { ExternalProcess p(o); });
    EXPECT_NE(msg.find("did not answer 'hello'"), std::string::npos) << msg;
}

TEST(External, GarbageAndErrorAnswers) {
    auto garbage = std::make_shared<ExternalProcess>(inline_child("print('this is not json', flush=True)\n"));
    ExternalEnvironment env(garbage);
    std::string msg = error_of([&] { env.reset(number_task(1)); });
    EXPECT_NE(msg.find("not JSON: this is not json"), std::string::npos) << msg;

    auto erring = std::make_shared<ExternalProcess>(
        inline_child("print(json.dumps({'error': 'no such task'}), flush=True)\nsys.stdin.readline()\n"));
    ExternalEnvironment env2(erring);
    msg = error_of([&] { env2.reset(number_task(1)); });
    EXPECT_NE(msg.find("reported an error for 'reset': no such task"), std::string::npos) << msg;

    ExternalOptions missing;
    missing.command = {"anvil-no-such-program"};
    EXPECT_THROW(ExternalProcess p(missing), UsageError);
}

}  // namespace anvil::env
