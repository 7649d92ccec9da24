#!/usr/bin/env bash
# Run every check: lint, types, the import contract, the pure core without adapters, and
# the whole suite against the real services (which the test fixtures start and stop).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
# the slowest tests of each step are listed, so a growing suite shows where its time goes
durations=(--durations=15 --durations-min=5)
status=0
step() { echo; echo "== $*"; }

step "ruff"
.venv/bin/ruff check installation tests benchmarks scripts || status=1
step "mypy"
.venv/bin/mypy || status=1
step "import contract (lint-imports)"
.venv/bin/lint-imports --no-cache || status=1
step "pure core, in an environment without Qt, GL, audio, MIDI or network libraries"
PYTHONPATH="$PWD" .venv-core/bin/python -m pytest -q -p no:cacheprovider "${durations[@]}" tests/core "$@" || status=1
step "adapters and integration, against real Xvfb, jackd and mosquitto (the core ran above)"
.venv/bin/python -m pytest -q -p no:cacheprovider "${durations[@]}" --ignore=tests/core --ignore-glob='tests/test_ui_*' \
  --ignore-glob='tests/test_midi_*' tests "$@" || status=1
# MIDI over JACK gets a process of its own too: the MIDI tests open and close many JACK clients,
# and libjack can crash a process that closes a port mid-notification (docs/pitfalls.md).
step "MIDI controllers over real JACK"
.venv/bin/python -m pytest -q -p no:cacheprovider "${durations[@]}" tests/test_midi_*.py "$@" || status=1
# The windows get a process of their own: one Qt application per process, and none of the
# GL contexts the render tests made and closed (many hidden canvases in one process crash Qt).
step "the desktop app's windows, on the real X server"
.venv/bin/python -m pytest -q -p no:cacheprovider "${durations[@]}" tests/test_ui_*.py "$@" || status=1
exit $status
