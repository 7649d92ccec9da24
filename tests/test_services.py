"""The test services themselves: what an earlier run left on this machine must not stop this one."""

from __future__ import annotations

import signal
import uuid

from tests import services


def test_a_killed_jackd_leaves_a_registry_entry_that_the_next_start_reclaims() -> None:
    """jackd's registry holds eight servers and frees an entry only on a clean stop; a server
    killed under a fresh name keeps its entry for good, and eight such end every later start
    ("Too many servers already active"). start_jack reclaims them first."""
    name = f"myco-killed-{uuid.uuid4().hex[:8]}"
    jack = services.start_jack(name)
    jack.process.send_signal(signal.SIGKILL)
    jack.process.wait(10)
    assert name in services.dead_jack_servers()
    fresh = services.start_jack(f"myco-fresh-{uuid.uuid4().hex[:8]}")
    try:
        assert name not in services.dead_jack_servers()
    finally:
        services.stop(fresh.process)
