# Myco: the two commands of the README, and a few more for developers.
.PHONY: run test bench fuzz soak soak-week soak-art soak-cluster check screenshots clean

run:  ## run Myco: the default show on the built-in simulation
	@scripts/setup.sh run
	.venv/bin/myco run $(ARGS)

test:  ## install everything the tests need, start the services, run every check
	@scripts/setup.sh test
	@scripts/test.sh

bench:  ## run the benchmarks and write benchmarks/results.json
	@scripts/setup.sh test
	.venv/bin/python benchmarks/run.py $(ARGS)

fuzz:  ## the fuzzers at ten times the suite's examples, fresh random ones each run (tests/fuzzing.py)
	@scripts/setup.sh test
	HYPOTHESIS_PROFILE=explore MYCO_FUZZ_DEPTH=$${MYCO_FUZZ_DEPTH:-10} PYTHONPATH="$$PWD" .venv-core/bin/python -m pytest -q -p no:cacheprovider \
	  tests/core/test_loader_fuzz.py tests/core/test_nodes_codec.py tests/core/test_nodes_recording.py tests/core/test_isf.py \
	  tests/core/test_sim_robust.py tests/core/test_midi_messages.py tests/core/test_synth_limits.py
	HYPOTHESIS_PROFILE=explore MYCO_FUZZ_DEPTH=$${MYCO_FUZZ_DEPTH:-10} .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_osc_listener.py tests/test_mqtt_listener.py

soak:  ## an hour of two outputs of one world, the seam between them read back every minute
	@scripts/setup.sh test
	.venv/bin/python scripts/soak_views.py $(ARGS)

soak-week:  ## a week of opening hours in minutes (accelerated clock), headless: transitions, memory, threads, fds, GL
	@scripts/setup.sh test
	.venv/bin/python scripts/soak_week.py $(ARGS)

soak-art:  ## a show played for an hour as the headless app plays it: each minute's hyphae measured against a --start still
	@scripts/setup.sh test
	.venv/bin/python scripts/soak_art.py $(ARGS)

soak-cluster:  ## a cluster of three headless members for minutes: overlaps compared, leader killed, broker restarted
	@scripts/setup.sh test
	.venv/bin/python scripts/soak_cluster.py $(ARGS)

check:  ## validate the shipped presets, seeds, shows, MIDI maps and shaders
	@scripts/setup.sh run
	.venv/bin/myco check

clean:
	rm -rf .venv .venv-core build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
