"""The ISF effect chain on real OpenGL (Xvfb + Mesa): every pixel against the formula computed here.

A known picture (red across, green up, blue 0.3) goes through the chain as the world's composite
would; the shaders are ours (``tests/isf_effects/``). 8-bit buffers: values agree within 2/255.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from vispy import gloo

from installation.core.effects import FADE_S, EffectChain
from installation.core.events import Event, EventKind
from installation.core.params import ParamBank
from installation.core.paths import resource_dir
from installation.core.presets import parse_preset
from installation.core.tomlsource import TomlSource
from installation.render.effects import EffectsPass

pytestmark = pytest.mark.usefixtures("qt_session")

SHADERS = Path(__file__).parent / "isf_effects"
SIZE = (32, 16)
TOLERANCE = 2.5 / 255
STEP = 1 / 60
LUMA = np.array([0.2126, 0.7152, 0.0722])


@pytest.fixture(scope="module")
def gl_context(qt_session: object) -> Iterator[Any]:
    from installation.render.offscreen import HiddenContext

    context = HiddenContext()
    yield context
    context.close()


class Rig:
    """A source picture, a chain and its parameters, the pass, and a target read back as 0..1."""

    def __init__(self, folder: Path = SHADERS) -> None:
        width, height = SIZE
        x = np.linspace(0.0, 1.0, width)[None, :].repeat(height, 0)
        y = np.linspace(0.0, 1.0, height)[:, None].repeat(width, 1)
        picture = np.stack([x, y, np.full_like(x, 0.3), np.ones_like(x)], -1)
        self.source = gloo.Texture2D((picture * 255).round().astype(np.uint8), interpolation="nearest")
        self.target_texture = gloo.Texture2D((height, width, 4), format="rgba")
        self.target = gloo.FrameBuffer(color=self.target_texture)
        self.bank = ParamBank()
        self.reports: list[str] = []
        self.chain = EffectChain(self.bank, [folder], self.reports.append)
        self.effects = EffectsPass(SIZE, resource_dir("shaders"))
        self.base = self.run()

    def run(self, events: tuple[Event, ...] = (), **options: Any) -> NDArray[np.float64]:
        self.effects.run(self.source, self.target, self.chain.slots, self.bank.snapshot(), events=events, **options)
        with self.target:
            pixels = gloo.read_pixels((0, 0, *SIZE), alpha=False)
        return np.asarray(pixels, np.float64) / 255.0

    def settle(self, seconds: float = 1.0) -> None:
        for _ in range(round(seconds / STEP)):
            self.chain.step(STEP)

    def close(self) -> None:
        self.effects.close()
        self.target.delete()
        self.target_texture.delete()
        self.source.delete()


@pytest.fixture
def rig(gl_context: Any) -> Iterator[Rig]:
    made = Rig()
    yield made
    made.close()


def near(picture: NDArray[np.float64], expected: NDArray[np.float64] | float) -> None:
    assert np.abs(picture - expected).max() <= TOLERANCE


def test_an_empty_chain_is_the_picture_and_a_filter_changes_it_as_computed(rig: Rig) -> None:
    assert rig.base[..., 0].min() == 0.0 and rig.base[..., 0].max() == 1.0  # the gradient came through
    rig.chain.add("invert")
    rig.settle()
    near(rig.run(), 1.0 - rig.base)


def test_order_matters(rig: Rig) -> None:
    rig.chain.add("invert")
    rig.chain.add("scale")
    rig.settle()
    near(rig.run(), 0.5 * (1.0 - rig.base))
    rig.chain.move("scale", 0)
    rig.settle()
    near(rig.run(), 1.0 - 0.5 * rig.base)


def test_add_bypass_and_remove_crossfade(rig: Rig) -> None:
    rig.chain.add("scale")
    rig.settle(0.15)  # 9 of 30 steps: level 0.3
    near(rig.run(), rig.base * (0.7 + 0.3 * 0.5))
    rig.settle()
    rig.chain.bypass("scale")
    rig.settle(0.2)  # level 1 - 12/30 = 0.6
    near(rig.run(), rig.base * (0.4 + 0.6 * 0.5))
    rig.settle()
    near(rig.run(), rig.base)  # bypassed
    rig.chain.bypass("scale", False)
    rig.settle()
    rig.chain.remove("scale")
    rig.settle(FADE_S / 2)
    near(rig.run(), rig.base * 0.75)
    rig.settle()
    near(rig.run(), rig.base)
    assert rig.chain.slots == () and "isf.scale.Gain" not in rig.bank


BLENDS = {
    "normal": lambda b, layer: layer + 0 * b,
    "add": lambda b, layer: np.minimum(b + layer, 1.0),
    "screen": lambda b, layer: 1 - (1 - b) * (1 - layer),
    "multiply": lambda b, layer: b * layer,
    "overlay": lambda b, layer: np.where(b < 0.5, 2 * b * layer, 1 - 2 * (1 - b) * (1 - layer)),
}


@pytest.mark.parametrize("mode", list(BLENDS))
def test_a_generator_layer_in_each_blend_mode(rig: Rig, mode: str) -> None:
    rig.chain.add("flat")
    rig.chain.set("flat", blend=mode, opacity=0.6)
    rig.settle()
    layer = np.array([0.2, 0.6, 0.8])
    near(rig.run(), rig.base + (BLENDS[mode](rig.base, layer) - rig.base) * 0.6)


def test_a_generator_as_a_mask_of_the_picture_and_of_the_effect_below(rig: Rig) -> None:
    x = np.linspace(0.0, 1.0, SIZE[0])[None, :, None]
    ramp = (np.arange(SIZE[0]) + 0.5)[None, :, None] / SIZE[0]  # what the shader sees at each pixel's centre
    assert np.abs(ramp - x).max() < 0.02
    rig.chain.add("ramp")
    rig.chain.set("ramp", mask="picture")
    rig.settle()
    near(rig.run(), rig.base * ramp)  # the ramp's luminance is its grey
    rig.chain.set("ramp", mask_from="alpha", opacity=0.5)
    near(rig.run(), rig.base + (rig.base * (1 - ramp) - rig.base) * 0.5)
    rig.chain.remove("ramp", fade_s=0)
    rig.settle(STEP)
    rig.chain.add("invert", fade_s=0)
    rig.chain.add("ramp", fade_s=0)
    rig.chain.set("ramp", mask="below")
    rig.settle(STEP)
    near(rig.run(), rig.base + (1 - 2 * rig.base) * ramp)  # the invert only where the ramp is bright


def test_a_preset_effect_parameter_and_one_set_through_the_bank_reach_the_shader(rig: Rig) -> None:
    preset = parse_preset(TomlSource.parse("""[preset]
title = "t"
seed = "kai-city"
look = "festival"

[[effect]]
file = "scale"
name = "dim"
params = { Gain = 0.25 }

[[effect]]
file = "flat"
blend = "multiply"
params = { tint = [1.0, 0.5, 0.25, 1.0] }
""", Path("t.toml")))
    values = rig.chain.apply(preset.effects, 0.0, None)
    rig.bank.set_many(values, "preset", immediate=True)
    near(rig.run(), rig.base * 0.25 * np.array([1.0, 0.5, 0.25]))
    rig.bank.set("isf.dim.Gain", 1.0, "midi", immediate=True)
    rig.bank.set("isf.flat.tint", "#ffffff", "osc", immediate=True)
    near(rig.run(), rig.base)


def test_an_event_bound_to_an_event_kind_fires_for_one_frame(rig: Rig) -> None:
    preset = parse_preset(TomlSource.parse("""[preset]
title = "t"
seed = "kai-city"
look = "festival"

[[effect]]
file = "flash"
events = { hit = "spike_burst" }
""", Path("t.toml")))
    rig.chain.apply(preset.effects, 0.0, None)
    near(rig.run(), rig.base)
    near(rig.run(events=(Event(EventKind.BLOOM),)), rig.base)  # another kind
    near(rig.run(events=(Event(EventKind.SPIKE_BURST),)), 1.0)
    near(rig.run(), rig.base)
    near(rig.run(events=(Event(EventKind.SPIKE_BURST),)), 1.0)
    near(rig.run(), rig.base)
    rig.bank.set("isf.flash.hit", True, "osc")  # the input is a momentary trigger of its own too
    near(rig.run(), 1.0)
    near(rig.run(), rig.base)


def test_audio_input_from_known_samples(rig: Rig) -> None:
    rig.chain.add("spectrum")
    rig.settle()
    bins = np.linspace(0.0, 1.0, 8, dtype=np.float32)[None, :]  # bin k holds k/7
    picture = rig.run(audio={"spectrum": bins, "waveform": np.zeros((1, 16), np.float32)})
    u = (np.arange(SIZE[0]) + 0.5) / SIZE[0]
    expected = np.clip((u * 8 - 0.5) / 7, 0.0, 1.0)  # linear between the texels' centres
    near(picture, expected[None, :, None])


def test_a_broken_file_is_skipped_and_a_broken_reload_keeps_the_last_good(gl_context: Any, tmp_path: Path) -> None:
    shutil.copy(SHADERS / "invert.fs", tmp_path / "edited.fs")
    shutil.copy(SHADERS / "broken.fs", tmp_path / "broken.fs")
    rig = Rig(tmp_path)
    try:
        rig.chain.add("broken")
        rig.settle()
        near(rig.run(), rig.base)  # never compiled: skipped, the picture stays
        assert any("broken.fs:2:" in str(problem) and "undefined_thing" in str(problem)
                   for problem in rig.effects.errors)
        rig.chain.remove("broken")
        rig.chain.add("edited")
        rig.settle()
        near(rig.run(), 1.0 - rig.base)
        path = tmp_path / "edited.fs"
        broken = path.read_text().replace("1.0 - IMG_THIS_PIXEL", "1.0 - IMG_THIS_PIXEL(inputImage).rgb * no_such +")
        path.write_text(broken)
        os.utime(path, (1e9, 1e9))
        rig.settle(0.3)  # the chain looks at its files every 0.25 s of the engine's time
        assert rig.chain.slots[0].version == 1
        near(rig.run(), 1.0 - rig.base)  # the last good program plays on
        assert any(str(problem).startswith(f"{path}:3:") for problem in rig.effects.errors)
        path.write_text((SHADERS / "scale.fs").read_text())
        os.utime(path, (2e9, 2e9))
        rig.settle(0.3)
        near(rig.run(), 0.5 * rig.base)
        assert rig.effects.errors == []
    finally:
        rig.close()



def test_the_blackout_darkens_the_picture_after_the_chain(rig: Rig) -> None:
    """An invert would light a blacked-out room: the chain's last pass darkens once more."""
    rig.chain.add("invert", fade_s=0)
    rig.settle(STEP)
    for blackout in (0.0, 0.5, 1.0):
        rig.effects.run(rig.source, rig.target, rig.chain.slots, {"render.blackout": blackout})
        with rig.target:
            picture = np.asarray(gloo.read_pixels((0, 0, *SIZE), alpha=False), np.float64) / 255.0
        near(picture, (1.0 - rig.base) * (1.0 - blackout))
