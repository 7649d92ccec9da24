"""Every loader meets arbitrary input: it returns a valid object or its own LoadError, nothing else.

Two strategies per loader: raw bytes/text (mostly invalid TOML), and well-formed TOML built
from the loaders' own vocabulary of keys with values of every type, which reaches deep into
validation. At least 2,000 examples each.

Then hostile files, for every loader that reads one (presets, seeds, shows, MIDI maps, shader
headers, node recordings, the resume state): nesting thousands of levels deep, multi-megabyte
strings and keys, NUL bytes, invalid UTF-8, truncated files, numbers of thousands of digits, a
folder or a named pipe where the file should be. Each ends in the loader's own error naming the
file, the line and the reason, within a second (the files are small or refused unread, so the
bound holds on a busy machine too). And a file a Windows editor saved (BOM, CRLF) loads the same.
"""

from __future__ import annotations

import codecs
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from installation.core.errors import LoadError, Problem
from installation.core.params import bool_param, color_param, enum_param, float_param
from installation.core.paths import UserDirs, resource_dir
from installation.core.presets import load_preset, parse_preset
from installation.core.resume import load_position, state_path
from installation.core.seeds import load_seed, parse_seed
from installation.core.shaderheader import parse_header, read_header
from installation.core.shows import load_show, parse_show
from installation.core.textfile import MAX_DEPTH, MAX_TEXT_BYTES, decode
from installation.core.tomlsource import TomlSource
from installation.core.venue import load_venue, parse_venue
from installation.midi.profile import load_profile, parse_profile
from installation.nodes.recording import MAX_RECORDING_BYTES, read_recording
from tests.fuzzing import fuzz

FUZZ = fuzz(400, suppress_health_check=[HealthCheck.too_slow])
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


def _assert_reported(problem: Problem, path: Path) -> None:
    """One line of ``file:line: key: reason`` a terminal can print, whatever the file held."""
    text = str(problem)
    assert problem.file == str(path) and problem.line >= 0 and problem.reason
    assert text.startswith(f"{path}:{problem.line}: ") and text.isprintable() and len(text) < 1000, text
    text.encode("utf-8")  # no lone surrogate from the file reaches stdout


def _load_or_clear_error(loader: Any, raw: bytes | str) -> None:
    try:
        source = TomlSource.parse(raw, WHERE)
        loader(source)
    except LoadError as error:
        for problem in error.problems:
            _assert_reported(problem, WHERE)


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


# -- hostile files ---------------------------------------------------------------------------
SECOND = 1.0
SHIPPED_PRESET = resource_dir("presets") / "kai-1-living-city.toml"
TOML_LOADERS: dict[str, Callable[[Path], object]] = {
    "preset": load_preset, "seed": load_seed, "show": load_show, "midi map": load_profile, "venue": load_venue}
FILE_LOADERS: dict[str, Callable[[Path], object]] = {
    **TOML_LOADERS, "shader header": read_header, "recording": read_recording}


def _line_of(text: bytes, needle: bytes) -> int:
    return text[: text.index(needle)].count(b"\n") + 1


def _cut_inside(needle: bytes) -> tuple[bytes, int]:
    """The shipped preset cut off in the middle of ``needle`` (a save that stopped half-way), and its line."""
    text = SHIPPED_PRESET.read_bytes()
    return text[: text.index(needle) + len(needle) // 2], _line_of(text, needle)


def _deep_key(parts: int) -> bytes:
    return b".".join([b"a"] * parts)


# name: (content, line, key ("" for none), what the reason says)
Hostile = dict[str, tuple[bytes, int, str, str]]
TOML_HOSTILE: Hostile = {
    "array nested 5,000 deep": (b"[preset]\na = " + b"[" * 5000 + b"]" * 5000 + b"\n", 2, "", "nested more than"),
    "inline tables nested 5,000 deep": (b"[preset]\nx = 1\na = " + b"{a=" * 5000 + b"1" + b"}" * 5000, 3, "",
                                        "nested more than"),
    "dotted key of 5,000 parts": (b"[preset]\n" + _deep_key(5000) + b" = 1\n", 2, "", "nested more than"),
    "table header of 5,000 parts": (b"# deep\n[" + _deep_key(5000) + b"]\n", 2, "", "nested more than"),
    "dotted key one part too deep": (b"[preset]\n\n[params]\n" + _deep_key(MAX_DEPTH) + b" = 1\n", 4,
                                     "params" + ".a" * (MAX_DEPTH - 1), "nested more than"),
    "integer beyond 64 bits": (b"[preset]\nseed = " + b"9" * 25 + b"\n", 2, "preset.seed", "64-bit"),
    "number of 5,000 digits": (b"[preset]\n\nseed = " + b"1" * 5000 + b"\n", 3, "", "too long"),
    "multi-megabyte string": (b'[preset]\ntitle = "' + b"x" * (3 << 20) + b'"\n', 0, "", "larger than"),
    "multi-megabyte key": (b'"' + b"k" * (3 << 20) + b'" = 1\n', 0, "", "larger than"),
    "one byte over the size cap": (b"#" * MAX_TEXT_BYTES + b"\n", 0, "", "larger than"),
    "NUL byte": (b'[preset]\ntitle = "a\x00b"\n', 2, "", "NUL"),
    "invalid UTF-8": (b'[preset]\n\ntitle = "\xff\xfe"\n', 3, "", "UTF-8"),
    "truncated mid-table": (*_cut_inside(b"[params]"), "", "invalid TOML"),
    "truncated mid-string": (*_cut_inside(b'"The living city"'), "", "invalid TOML"),
}
HEADER_HOSTILE: Hostile = {
    "array nested 5,000 deep": (b'/*{\n"CREDIT": ' + b"[" * 5000 + b"]" * 5000 + b"}*/\nvoid main() {}\n", 2,
                                "header", "nested more than"),
    "array one level too deep": (b'/*{\n"CREDIT":\n' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}*/\n", 3,
                                 "CREDIT" + "[0]" * (MAX_DEPTH - 1), "nested more than"),
    "integer beyond 64 bits": (b'/*{"INPUTS": [{"NAME": "a", "TYPE": "float",\n"MIN": 1' + b"0" * 30 + b"}]}*/\n",
                               2, "INPUTS[0].MIN", "64-bit"),
    "number of 5,000 digits": (b'/*{"INPUTS": [{"NAME": "a", "TYPE": "float",\n"MIN": ' + b"1" * 5000 + b"}]}*/\n",
                               2, "header", "too long"),
    "multi-megabyte string": (b'/*{"DESCRIPTION": "' + b"x" * (3 << 20) + b'"}*/\n', 0, "", "larger than"),
    "NUL byte": (b'/*{"DESCRIPTION": "glow"}*/\nvoid main() {\x00}\n', 2, "", "NUL"),
    "invalid UTF-8": (b'/*{\n"DESCRIPTION": "\xc3\x28"}*/\n', 2, "", "UTF-8"),
    "truncated mid-string": (b'/*{\n"DESCRIPTION": "gl', 1, "header", "never closed"),
    "truncated JSON": (b'/*{\n"INPUTS": [\n}*/\nvoid main() {}\n', 3, "header", "invalid JSON"),
}


def _load_in_time(loader: Callable[[Path], object], path: Path) -> LoadError:
    start = time.monotonic()
    with pytest.raises(LoadError) as caught:
        loader(path)
    assert time.monotonic() - start < SECOND
    for problem in caught.value.problems:
        _assert_reported(problem, path)
    return caught.value


def _assert_first(error: LoadError, line: int, key: str, reason: str) -> None:
    problem = error.problems[0]
    assert (problem.line, problem.key) == (line, key) and reason in problem.reason, problem


@pytest.mark.parametrize("loader", TOML_LOADERS)
@pytest.mark.parametrize("case", TOML_HOSTILE)
def test_hostile_toml_gets_the_loaders_error_at_its_line(tmp_path: Path, loader: str, case: str) -> None:
    content, line, key, reason = TOML_HOSTILE[case]
    path = tmp_path / "hostile.toml"
    path.write_bytes(content)
    _assert_first(_load_in_time(TOML_LOADERS[loader], path), line, key, reason)


@pytest.mark.parametrize("case", HEADER_HOSTILE)
def test_hostile_shader_header_gets_the_loaders_error_at_its_line(tmp_path: Path, case: str) -> None:
    content, line, key, reason = HEADER_HOSTILE[case]
    path = tmp_path / "hostile.frag"
    path.write_bytes(content)
    _assert_first(_load_in_time(read_header, path), line, key, reason)


@contextmanager
def _special(kind: str, path: Path) -> Iterator[str]:
    """A named pipe (nobody writing: a plain open would wait forever), a folder, or nothing, at ``path``."""
    if kind == "named pipe":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    yield {"named pipe": "a named pipe, not a file", "folder": "a folder, not a file",
           "missing": "cannot read"}[kind]


@pytest.mark.parametrize("loader", FILE_LOADERS)
@pytest.mark.parametrize("kind", ["named pipe", "folder", "missing"])
def test_no_file_where_a_file_should_be_is_reported_at_once(tmp_path: Path, loader: str, kind: str) -> None:
    path = tmp_path / "thing.toml"
    with _special(kind, path) as reason:
        _assert_first(_load_in_time(FILE_LOADERS[loader], path), 0, "", reason)


def test_keys_and_values_from_a_file_print_as_one_short_line(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('[preset]\n"two\\nlines\\u0085and a bell\\u0007" = 1\n"' + "k" * 200_000 + '" = 2\n')
    problems = {problem.key[:10]: problem for problem in _load_in_time(load_preset, path).problems}
    assert problems["preset.two"].reason.startswith("unknown key")  # printed as one line (above)
    assert problems["preset.kkk"].line == 3 and "…" in str(problems["preset.kkk"])
    header = tmp_path / "keys.frag"
    header.write_text('/*{\n"\\ud800": 1, "\\u2028": 2}*/\n')  # JSON lets a key be a lone surrogate
    assert [p.reason.split(" (")[0] for p in _load_in_time(read_header, header).problems] == ["unknown header key"] * 2


def test_a_hostile_recording_is_skipped_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    lines = [
        b'\xef\xbb\xbf{"type":"header","format":"myco-nodes","version":1}',  # a BOM: still the header
        b"[" * 2000 + b"]" * 2000,
        b"x" * (10 << 20),  # one line of 10 MB, never held in memory
        b'{"type":"reading","t":1,"node":"n1","potential_mv":\x00}',
        b'{"type":"reading","t":1,"node":"\xff"}',
        b'{"type":"reading","t":1' + b"0" * 30 + b',"node":"n1"}',
        b'{"type":"reading","t":2,"node":"n1","potential_mv":0.5}',
        b'{"type":"reading","t":3,"no',
    ]
    path.write_bytes(b"\r\n".join(lines))
    start = time.monotonic()
    recording = read_recording(path)
    assert time.monotonic() - start < SECOND
    assert [t for t, _ in recording.readings] == [2.0]
    reasons = {problem.line: problem.reason for problem in recording.problems}
    assert list(reasons) == [2, 3, 4, 5, 6, 8]
    for line, expected in zip(reasons, ["nested more than", "too long", "NUL", "UTF-8", "64-bit", "invalid JSON"],
                              strict=True):
        assert expected in reasons[line]
    for problem in recording.problems:
        _assert_reported(problem, path)


def test_a_recording_over_its_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.touch()
    os.truncate(path, MAX_RECORDING_BYTES + 1)  # sparse: nothing written
    _assert_first(_load_in_time(read_recording, path), 0, "", "file is larger than 1 GiB")


@pytest.mark.parametrize("content", [b"[" * 5000, b"{}\x00", b"\xff", b'{"show": ' + b"1" * 5000 + b"}", None])
def test_a_hostile_resume_state_means_start_from_the_top(myco_home: Path, content: bytes | None) -> None:
    user = UserDirs.default().ensure()
    path = state_path(user)
    if content is None:
        os.mkfifo(path)
    else:
        path.write_bytes(content)
    start = time.monotonic()
    assert load_position(user, "kai-festival", 60.0) is None
    assert time.monotonic() - start < SECOND


def test_toml_nested_to_the_limit_still_loads() -> None:
    text = "[params]\n" + _deep_key(MAX_DEPTH - 1).decode() + " = 1\n"
    assert TomlSource.parse(text, WHERE).data["params"]["a"]["a"]


# -- files a Windows editor saved: a byte-order mark and CRLF line endings ----------------------
SHIPPED_TOML = sorted([*resource_dir("presets").glob("*.toml"), *resource_dir("presets").glob("*/*.toml"),
                       *resource_dir("seeds").glob("*.toml")])
SHIPPED_SHADERS = sorted([*resource_dir("shaders").glob("*.frag"), *resource_dir("shaders").glob("*.vert")])
PARSERS: dict[str, Callable[[TomlSource], object]] = {
    "presets": parse_preset, "seeds": parse_seed, "shows": parse_show, "midi": parse_profile, "venues": parse_venue}


def _windows(raw: bytes) -> bytes:
    return codecs.BOM_UTF8 + raw.replace(b"\n", b"\r\n")


def _load_bytes(raw: bytes, path: Path) -> object:
    """What the loader for ``path``'s kind makes of ``raw`` (read as if it were ``path``, for images beside)."""
    if path.suffix == ".toml":
        return PARSERS[path.parent.name](TomlSource.parse(raw, path))
    header = parse_header(decode(raw, path), path)
    return header.inputs, header.body_line, header.description


@pytest.mark.parametrize("path", SHIPPED_TOML + SHIPPED_SHADERS, ids=lambda path: path.name)
def test_a_shipped_file_saved_with_bom_and_crlf_loads_the_same(path: Path) -> None:
    raw = path.read_bytes()
    assert _load_bytes(_windows(raw), path) == _load_bytes(raw, path)
    if path.suffix == ".toml":
        plain, windows = TomlSource.parse(raw, path), TomlSource.parse(_windows(raw), path)
        assert windows._index == plain._index  # every key on the same line


MANGLINGS = [b"\x00", b"\xff", b"\xc3", b"[" * 3000, b"{a=" * 3000, b"a." * 3000, b'"', b"\r", b"\n[", b"9" * 5000]


@FUZZ
@given(st.sampled_from(SHIPPED_TOML + SHIPPED_SHADERS), st.booleans(), st.one_of(st.none(), st.floats(0, 1)),
       st.one_of(st.none(), st.tuples(st.floats(0, 1), st.sampled_from(MANGLINGS))))
def test_fuzz_shipped_files_mangled(path: Path, windows: bool, cut: float | None,
                                    insert: tuple[float, bytes] | None) -> None:
    """A shipped file, maybe saved by Windows, cut short or with hostile bytes put in: loaded or reported."""
    raw = _windows(path.read_bytes()) if windows else path.read_bytes()
    if cut is not None:
        raw = raw[: int(len(raw) * cut)]
    if insert is not None:
        at = int(len(raw) * insert[0])
        raw = raw[:at] + insert[1] + raw[at:]
    start = time.monotonic()
    try:
        loaded = _load_bytes(raw, path)
    except LoadError as error:
        for problem in error.problems:
            _assert_reported(problem, path)
    else:
        if cut is None and insert is None:
            assert loaded == _load_bytes(path.read_bytes(), path)
    assert time.monotonic() - start < SECOND
