"""Seeds: the starting conditions a preset grows from.

A seed (TOML in ``seeds/``, with optional PNG images beside it) gives the node layout and
kinds, the waste and toxin maps (procedural blobs, random scatter, or grey-scale images),
an optional mural mask, the RNG seed and the canvas aspect. Everything random is drawn
from the seed's own RNG, so a seed always grows the same world.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from installation.core.errors import LoadError
from installation.core.frames import NODE_ID_PATTERN
from installation.core.paths import inside, resource_dir
from installation.core.tomlsource import Checker, TomlSource

NODE_KINDS = ("hub", "node", "sensor", "waste-to-life", "workshop", "purifier")
MAX_NODES = 1024
MAX_BLOBS = 512
MAX_IMAGE_SIDE = 4096
IMAGE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}\.png$")  # bounded: a longer name makes stat() raise
SEED_TABLES = {"seed", "nodes", "waste", "toxin", "mask"}
Grid = NDArray[np.float32]


@dataclass(frozen=True)
class SeedNode:
    id: str
    x: float
    y: float
    kind: str = "node"


@dataclass(frozen=True)
class Blob:
    """A soft round patch: ``amount`` at the centre, fading to nothing at ``radius``."""

    x: float
    y: float
    radius: float
    amount: float


@dataclass(frozen=True)
class FieldRecipe:
    """How one scalar field starts: explicit blobs, random scatter, and an optional image."""

    blobs: tuple[Blob, ...] = ()
    scatter: int = 0
    radius_range: tuple[float, float] = (0.02, 0.06)
    amount_range: tuple[float, float] = (0.3, 0.8)
    image: Grid | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Seed:
    name: str
    title: str
    rng_seed: int
    aspect: float
    nodes: tuple[SeedNode, ...]
    waste: FieldRecipe
    toxin: FieldRecipe
    mask: Grid | None = field(default=None, compare=False)
    path: Path | None = field(default=None, compare=False)

    def rng(self, stream: int = 0) -> np.random.Generator:
        """An independent, reproducible random stream of this seed."""
        return np.random.default_rng([self.rng_seed, stream])

    def field(self, name: str, shape: tuple[int, int]) -> Grid:
        """Rasterise ``waste``, ``toxin`` or ``mask`` onto a grid of ``shape`` (rows, cols)."""
        if name == "mask":
            return resample(self.mask, shape) if self.mask is not None else np.zeros(shape, np.float32)
        recipe = {"waste": self.waste, "toxin": self.toxin}[name]
        stream = {"waste": 1, "toxin": 2}[name]
        rng = self.rng(stream)
        blobs = list(recipe.blobs)
        for _ in range(recipe.scatter):
            blobs.append(Blob(float(rng.uniform(0.03, 0.97)), float(rng.uniform(0.03, 0.97)),
                              float(rng.uniform(*recipe.radius_range)), float(rng.uniform(*recipe.amount_range))))
        grid = render_blobs(blobs, shape, self.aspect)
        if recipe.image is not None:
            grid = np.maximum(grid, resample(recipe.image, shape))
        return np.clip(grid, 0.0, 1.0).astype(np.float32)


def render_blobs(blobs: list[Blob], shape: tuple[int, int], aspect: float) -> Grid:
    rows, cols = shape
    ys = (np.arange(rows, dtype=np.float32) + 0.5) / rows
    xs = (np.arange(cols, dtype=np.float32) + 0.5) / cols
    grid = np.zeros(shape, np.float32)
    for blob in blobs:
        # Distances in canvas units, so blobs stay round on a wide canvas.
        dx = (xs - blob.x) * aspect
        dy = ys - blob.y
        d2 = dy[:, None] ** 2 + dx[None, :] ** 2
        sigma = blob.radius / 2.0
        grid += blob.amount * np.exp(-d2 / (2 * sigma * sigma)).astype(np.float32)
    return grid


def resample(image: Grid, shape: tuple[int, int]) -> Grid:
    """Bilinear resampling of a grey-scale grid to ``shape``."""
    rows, cols = shape
    src_rows, src_cols = image.shape
    ys = np.clip((np.arange(rows) + 0.5) * src_rows / rows - 0.5, 0, src_rows - 1)
    xs = np.clip((np.arange(cols) + 0.5) * src_cols / cols - 0.5, 0, src_cols - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, src_rows - 1)
    x1 = np.minimum(x0 + 1, src_cols - 1)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def load_png(checker: Checker, name: str, key: str) -> Grid | None:
    """Load a grey-scale PNG that sits beside the seed file (never outside its folder)."""
    if not IMAGE_NAME.match(name):
        checker.fail(key, f"{name!r} must be a plain .png file name beside the seed")
        return None
    folder = checker.source.path.parent
    try:
        path = inside(folder, folder / name)
    except ValueError as error:
        checker.fail(key, str(error))
        return None
    if not path.is_file():
        checker.fail(key, f"image {name} not found beside the seed")
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if max(image.size) > MAX_IMAGE_SIDE:
                checker.fail(key, f"image {name} is larger than {MAX_IMAGE_SIDE} pixels on a side")
                return None
            grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        checker.fail(key, f"image {name} cannot be read: {error}")
        return None
    return grey


def _range(checker: Checker, table: dict[str, Any], name: str, key: str, default: tuple[float, float],
           maximum: float) -> tuple[float, float]:
    value = table.get(name, list(default))
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            or not 0 <= value[0] <= value[1] <= maximum):
        checker.fail(key, f"must be [low, high] with 0 <= low <= high <= {maximum:g}")
        return default
    return (float(value[0]), float(value[1]))


def _recipe(checker: Checker, data: dict[str, Any], name: str) -> FieldRecipe:
    table = checker.table(data, name, name, required=False)
    checker.unknown_keys(table, {"blob", "scatter", "radius", "amount", "image"}, name)
    blobs = []
    entries = checker.tables(table, "blob", f"{name}.blob", limit=MAX_BLOBS)
    for index, entry in enumerate(entries):
        key = f"{name}.blob[{index}]"
        checker.unknown_keys(entry, {"x", "y", "radius", "amount"}, key)
        blobs.append(Blob(
            checker.number(entry, "x", f"{key}.x", minimum=0, maximum=1),
            checker.number(entry, "y", f"{key}.y", minimum=0, maximum=1),
            checker.number(entry, "radius", f"{key}.radius", 0.05, minimum=0.001, maximum=1),
            checker.number(entry, "amount", f"{key}.amount", 0.6, minimum=0, maximum=1),
        ))
    image = None
    if "image" in table:
        image = load_png(checker, checker.string(table, "image", f"{name}.image"), f"{name}.image")
    return FieldRecipe(
        blobs=tuple(blobs),
        scatter=checker.integer(table, "scatter", f"{name}.scatter", 0, 0, MAX_BLOBS),
        radius_range=_range(checker, table, "radius", f"{name}.radius", (0.02, 0.06), 1.0),
        amount_range=_range(checker, table, "amount", f"{name}.amount", (0.3, 0.8), 1.0),
        image=image,
    )


def _nodes(checker: Checker, data: dict[str, Any], meta: dict[str, Any], rng_seed: int) -> tuple[SeedNode, ...]:
    nodes: list[SeedNode] = []
    seen: set[str] = set()
    entries = checker.tables(data, "nodes", "nodes")
    for index, entry in enumerate(entries):
        key = f"nodes[{index}]"
        checker.unknown_keys(entry, {"id", "x", "y", "kind"}, key)
        node_id = checker.string(entry, "id", f"{key}.id", pattern=NODE_ID_PATTERN)
        if node_id in seen:
            checker.fail(f"{key}.id", f"duplicate node id {node_id!r}")
        seen.add(node_id)
        kind = checker.string(entry, "kind", f"{key}.kind", "node")
        if kind not in NODE_KINDS:
            checker.fail(f"{key}.kind", f"unknown node kind {kind!r} (one of {', '.join(NODE_KINDS)})")
        nodes.append(SeedNode(node_id, checker.number(entry, "x", f"{key}.x", minimum=0, maximum=1),
                              checker.number(entry, "y", f"{key}.y", minimum=0, maximum=1), kind))
    extra = checker.integer(meta, "random_nodes", "seed.random_nodes", 0, 0, MAX_NODES)
    extra_kind = checker.string(meta, "random_kind", "seed.random_kind", "node")
    if extra_kind not in NODE_KINDS:
        checker.fail("seed.random_kind", f"unknown node kind {extra_kind!r}")
    if len(nodes) + extra > MAX_NODES:
        checker.fail("seed.random_nodes", f"more than {MAX_NODES} nodes in all")
        extra = 0
    rng = np.random.default_rng([rng_seed, 0])
    for number in range(extra):
        node_id = f"n{number:03d}"
        while node_id in seen:
            node_id += "x"
        seen.add(node_id)
        nodes.append(SeedNode(node_id, float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.05, 0.95)), extra_kind))
    return tuple(nodes)


def parse_seed(source: TomlSource) -> Seed:
    """Build a seed from parsed TOML, reporting every problem at once."""
    checker = Checker(source)
    data = source.data
    checker.unknown_keys(data, SEED_TABLES, "")
    meta = checker.table(data, "seed", "seed")
    checker.unknown_keys(meta, {"name", "title", "rng", "aspect", "random_nodes", "random_kind"}, "seed")
    rng_seed = checker.integer(meta, "rng", "seed.rng", 0, 0, 2**63 - 1)
    mask_table = checker.table(data, "mask", "mask", required=False)
    checker.unknown_keys(mask_table, {"image"}, "mask")
    mask = None
    if "image" in mask_table:
        mask = load_png(checker, checker.string(mask_table, "image", "mask.image"), "mask.image")
    seed = Seed(
        name=checker.string(meta, "name", "seed.name", source.path.stem),
        title=checker.string(meta, "title", "seed.title", ""),
        rng_seed=rng_seed,
        aspect=checker.number(meta, "aspect", "seed.aspect", 16 / 9, minimum=0.2, maximum=8.0),
        nodes=_nodes(checker, data, meta, rng_seed),
        waste=_recipe(checker, data, "waste"),
        toxin=_recipe(checker, data, "toxin"),
        mask=mask,
        path=source.path,
    )
    checker.raise_if_any()
    return seed


def load_seed(path: Path) -> Seed:
    return parse_seed(TomlSource.read(path))


def seed_path(name: str) -> Path:
    from installation.core.paths import safe_name

    return resource_dir("seeds") / f"{safe_name(name)}.toml"


def find_seed(name: str) -> Seed:
    path = seed_path(name)
    if not path.is_file():
        raise LoadError.single(path, 0, "", f"seed {name!r} not found")
    return load_seed(path)
