"""Reads a directory of TensorBoard event files with TensorBoard's own loader and checks its scalars.

Usage: check_tensorboard.py EVENT_DIR TAG=STEP:VALUE [TAG=STEP:VALUE ...]
Exits 0 when every expected scalar is present with that value (float32 precision), 1 otherwise.
Used by tests/trainer/tensorboard_reader_test.cpp; needs the `tensorboard` package (scripts/setup.sh installs it).
"""
import glob
import os
import sys

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.util import tensor_util


def main():
    directory, expectations = sys.argv[1], sys.argv[2:]
    files = glob.glob(os.path.join(directory, "events.out.tfevents.*"))
    if len(files) != 1:
        print(f"expected one event file in {directory}, found {files}")
        return 1
    seen = {}
    version = None
    for event in EventFileLoader(files[0]).Load():
        if event.HasField("file_version"):
            version = event.file_version
        for value in event.summary.value:
            # The loader migrates simple_value into a scalar tensor.
            number = float(tensor_util.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
            seen[(value.tag, event.step)] = number
    if version != "brain.Event:2":
        print(f"file_version is {version!r}")
        return 1
    for item in expectations:
        tag, rest = item.split("=")
        step, value = rest.split(":")
        got = seen.get((tag, int(step)))
        if got is None or abs(got - float(value)) > 1e-6 * max(1.0, abs(float(value))):
            print(f"{tag} at step {step}: expected {value}, got {got}; all: {seen}")
            return 1
    print(f"OK: {len(seen)} scalars read by TensorBoard")
    return 0


if __name__ == "__main__":
    sys.exit(main())
