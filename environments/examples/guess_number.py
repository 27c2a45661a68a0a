#!/usr/bin/env python3
"""An example external environment for Anvil: a number-guessing game over the JSON-lines protocol.

The protocol is documented in environments/external.h. Anvil starts this script once and sends it one JSON
object per line on stdin; the script answers each request with one JSON line on stdout (log to stderr
only). Many episodes run at once, told apart by their "episode" id.

The game: the task's "answer" is a whole number between 1 and 100. The policy guesses; the environment
answers "Higher." or "Lower." until the guess is right (reward 1) or max_guesses is used up (reward 0).
The "score" request (plug-in level 1) gives 1 when the last number in the completion equals the answer.

Use from a config:
    [stage.environment]
    name = "external"
    command = ["python3", "environments/examples/guess_number.py"]
"""
import json
import re
import sys

MAX_GUESSES = 7


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def last_int(text):
    numbers = re.findall(r"-?\d+", text)
    return int(numbers[-1]) if numbers else None


def main():
    episodes = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        kind = msg.get("type")
        if kind == "hello":
            send({"protocol": 1, "name": "guess_number"})
        elif kind == "reset":
            secret = int(msg["task"]["answer"])
            episodes[msg["episode"]] = {"secret": secret, "guesses": 0}
            send({"observation": f"I am thinking of a whole number between 1 and 100. "
                                 f"You have {MAX_GUESSES} guesses. Reply with one number."})
        elif kind == "step":
            episode = episodes.get(msg["episode"])
            if episode is None:
                send({"error": f"unknown episode {msg['episode']}"})
                continue
            episode["guesses"] += 1
            guess = last_int(msg["action"])
            left = MAX_GUESSES - episode["guesses"]
            if guess == episode["secret"]:
                send({"observation": "", "reward": 1.0, "feedback": "", "done": True})
            elif left == 0:
                send({"observation": "", "reward": 0.0, "done": True,
                      "feedback": "You ran out of guesses; halve the interval with each guess."})
            elif guess is None:
                send({"observation": "Please reply with a number.", "feedback": "No number in the reply."})
            else:
                hint = "Higher." if guess < episode["secret"] else "Lower."
                send({"observation": f"{hint} {left} guesses left."})
        elif kind == "score":
            right = last_int(msg["completion"]) == int(msg["task"]["answer"])
            send({"score": 1.0 if right else 0.0, "feedback": "" if right else "Wrong number."})
        elif kind == "close_episode":
            episodes.pop(msg["episode"], None)
        elif kind == "shutdown":
            break
        else:
            send({"error": f"unknown request type {kind!r}"})
            print(f"guess_number: unknown request {msg}", file=sys.stderr)


if __name__ == "__main__":
    main()
