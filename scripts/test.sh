#!/usr/bin/env bash
# Run every check: lint, types, the import contract, the pure core without adapters, and
# the whole suite against the real services (which the test fixtures start and stop).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
status=0
step() { echo; echo "== $*"; }

step "ruff"
.venv/bin/ruff check installation tests benchmarks scripts || status=1
step "mypy"
.venv/bin/mypy || status=1
step "import contract (lint-imports)"
.venv/bin/lint-imports --no-cache || status=1
step "pure core, in an environment without Qt, GL, audio, MIDI or network libraries"
PYTHONPATH="$PWD" .venv-core/bin/python -m pytest -q -p no:cacheprovider tests/core "$@" || status=1
step "adapters and integration, against real Xvfb, jackd and mosquitto (the core ran above)"
.venv/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/core tests "$@" || status=1
exit $status
