"""Every loader meets arbitrary input: it returns a valid object or its own LoadError, nothing else.

Two strategies per loader: raw bytes/text (mostly invalid TOML), and well-formed TOML built
from the loaders' own vocabulary of keys with values of every type, which reaches deep into
validation. At least 2,000 examples each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.core.errors import LoadError
from installation.core.params import bool_param, color_param, enum_param, float_param
from installation.core.presets import parse_preset
from installation.core.seeds import parse_seed
from installation.core.shows import parse_show
from installation.core.tomlsource import TomlSource

FUZZ = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHERE = Path("/nonexistent/fuzz/file.toml")
SPECS = {spec.name: spec for spec in (
    float_param("sim.growth", 0.5, 0.0, 2.0), bool_param("synth.mute", False),
    enum_param("synth.scale", "major", ("major", "minor")), color_param("render.tint", "#ffffff"))}

VOCABULARY = ["preset", "params", "midi", "title", "seed", "look", "description", "tags", "show", "acts",
              "preset", "duration", "transition", "cues", "at", "event", "strength", "x", "y", "node", "label",
              "rng", "aspect", "random_nodes", "random_kind", "nodes", "id", "kind", "waste", "toxin", "blob",
              "scatter", "radius", "amount", "image", "mask", "loop", "sim.growth", "synth.mute", "synth.scale",
              "render.tint", "surge", "hub", "kai-city"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(VOCABULARY), st.sampled_from(["#00ff00", "#zz", "a.b"]))
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(VOCABULARY), inner, max_size=5)),
    max_leaves=24,
)
documents = st.dictionaries(st.sampled_from(VOCABULARY), values, max_size=6)


def _toml_text(document: dict[str, Any]) -> str | None:
    cleaned = _drop_none(document)
    try:
        return tomlkit.dumps(cleaned)
    except (TypeError, ValueError):
        return None


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


def _load_or_clear_error(loader: Any, raw: bytes | str) -> None:
    try:
        source = TomlSource.parse(raw, WHERE)
        loader(source)
    except LoadError as error:
        for problem in error.problems:
            assert problem.file == str(WHERE)
            assert problem.line >= 0
            assert problem.reason


LOADERS = {
    "preset": lambda source: parse_preset(source, SPECS),
    "seed": parse_seed,
    "show": lambda source: parse_show(source, preset_exists=lambda name: name == "kai-city"),
}


@FUZZ
@given(st.binary(max_size=400))
def test_preset_loader_on_bytes(raw: bytes) -> None:
    _load_or_clear_error(LOADERS["preset"], raw)


@FUZZ
@given(documents)
def test_preset_loader_on_toml(document: dict[str, Any]) -> None:
    text = _toml_text(document)
    if text is not None:
        _load_or_clear_error(LOADERS["preset"], text)


@FUZZ
@given(st.binary(max_size=400))
def test_seed_loader_on_bytes(raw: bytes) -> None:
    _load_or_clear_error(LOADERS["seed"], raw)


@FUZZ
@given(documents)
def test_seed_loader_on_toml(document: dict[str, Any]) -> None:
    text = _toml_text(document)
    if text is not None:
        _load_or_clear_error(LOADERS["seed"], text)


@FUZZ
@given(st.binary(max_size=400))
def test_show_loader_on_bytes(raw: bytes) -> None:
    _load_or_clear_error(LOADERS["show"], raw)


@FUZZ
@given(documents)
def test_show_loader_on_toml(document: dict[str, Any]) -> None:
    text = _toml_text(document)
    if text is not None:
        _load_or_clear_error(LOADERS["show"], text)
