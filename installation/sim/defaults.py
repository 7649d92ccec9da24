"""A built-in seed, for when no seed file is at hand (tests, benchmarks, a bare checkout)."""

from __future__ import annotations

import numpy as np

from installation.core.seeds import NODE_KINDS, Blob, FieldRecipe, Seed, SeedNode


def demo_seed(rng_seed: int = 1, nodes: int = 48, aspect: float = 16 / 9) -> Seed:
    """A city of ``nodes`` nodes (a few hubs and purifiers), scattered waste and two toxin pools."""
    rng = np.random.default_rng([rng_seed, 99])
    kinds = rng.choice(NODE_KINDS, size=nodes, p=[0.08, 0.62, 0.12, 0.08, 0.05, 0.05])
    points = rng.uniform(0.05, 0.95, size=(nodes, 2))
    return Seed(
        name="demo",
        title="Built-in demo city",
        rng_seed=rng_seed,
        aspect=aspect,
        nodes=tuple(SeedNode(f"n{i:03d}", float(x), float(y), str(k)) for i, ((x, y), k) in
                    enumerate(zip(points, kinds, strict=True))),
        waste=FieldRecipe(scatter=24, radius_range=(0.03, 0.08), amount_range=(0.3, 0.8)),
        toxin=FieldRecipe(blobs=(Blob(float(rng.uniform(0.2, 0.4)), float(rng.uniform(0.3, 0.7)), 0.12, 0.8),
                                 Blob(float(rng.uniform(0.6, 0.8)), float(rng.uniform(0.3, 0.7)), 0.1, 0.7))),
    )
