"""How many examples a fuzzer tries: the suite's counts, or many more for ``make fuzz``.

The suite's profile is derandomised (``tests/conftest.py``): every run tries the same examples,
so a long fuzz in every CI run repeats itself. Each fuzzer names its suite count here; ``make
fuzz`` multiplies them by ``MYCO_FUZZ_DEPTH`` with fresh random examples (the ``explore``
profile)."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import settings

DEPTH = float(os.environ.get("MYCO_FUZZ_DEPTH", "1"))


def fuzz(examples: int, **options: Any) -> settings:
    """Hypothesis settings for a fuzzer that tries ``examples`` in the suite (no deadline: a
    loaded CI machine makes single examples slow, which is not what a fuzzer looks for)."""
    return settings(max_examples=max(1, round(examples * DEPTH)), deadline=None, **options)
