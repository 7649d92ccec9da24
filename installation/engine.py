"""The engine: one fixed-step tick that turns inputs and the show into WorldFrames.

Each :meth:`Engine.step` drains the input queue (parameter changes, events, commands from
MIDI, OSC and the UI), advances the show timeline (cues become events, act
changes start a preset morph and reseed the world), steps the world source (the kernel,
or the live-node mux around it), and advances parameter smoothing. It is the only writer
of the parameter bank; every other thread posts to :attr:`Engine.inputs` and reads
snapshots. The step is fixed (default 60 Hz), so the world is the same for the same
inputs whatever the frame rate.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installation.core.commands import CROSSFADER, OPEN_LEVEL, SPECS, Command, switch
from installation.core.decks import Decks
from installation.core.effects import EffectChain, isf_folders
from installation.core.errors import LoadError
from installation.core.events import CommandInput, ControlInput, Event, Input, InputQueue, ParamInput, RoutingsInput
from installation.core.frames import WorldFrame, empty_frame
from installation.core.modulation import AMOUNT, Modulator
from installation.core.morph import morph
from installation.core.opening import OpeningHours, Transition
from installation.core.params import ParamBank, ParamSpec, Value
from installation.core.paths import UserDirs
from installation.core.presets import Preset, PresetLibrary, parse_preset
from installation.core.resume import ShowPosition, load_position, save_position
from installation.core.seeds import Seed, find_seed
from installation.core.shows import ActChange, ShowPlayer, find_show
from installation.core.snapshot import Snapshot, SnapshotError, first_usable
from installation.core.snapshot import folder as snapshot_folder
from installation.core.tempo import Launches, Tempo
from installation.core.textfile import read_text
from installation.core.tomlsource import TomlSource
from installation.core.world import WorldSource

log = logging.getLogger(__name__)

PRESET_POLL_S = 0.25
PRESET_RELOAD_S = 0.5  # an edited preset morphs in over this long
RESUME_SAVE_S = 5.0
RESUME_MAX_AGE_S = 6 * 3600.0
LOOP = SPECS[Command.LOOP].state
PAUSED = SPECS[Command.PAUSE].state
BLACKOUT = SPECS[Command.BLACKOUT].state


@dataclass
class Fade:
    """A morph in progress from one set of values to another (act change or recall).

    Counted in whole steps, so a fade always ends exactly on its target values.
    """

    specs: dict[str, ParamSpec]  # of the parameters that change, taken once when the fade starts
    start: dict[str, Value]
    end: dict[str, Value]
    steps: int
    done: int = 0
    from_look: str = ""
    to_look: str = ""

    @property
    def factor(self) -> float:
        return 1.0 if self.steps <= 0 else min(1.0, self.done / self.steps)


WorldFactory = Callable[[Seed], WorldSource]


class Engine:
    def __init__(self, player: ShowPlayer, world_factory: WorldFactory, *, bank: ParamBank, step_hz: float = 60.0,
                 presets: PresetLibrary | None = None, inputs: InputQueue | None = None,
                 isf_dirs: Iterable[Path] = ()) -> None:
        """``bank`` holds every parameter already (:func:`installation.registry.build_bank`);
        ``isf_dirs`` are searched for ISF effects before the user's and the shipped folders."""
        self.player = player
        self.step_hz = step_hz
        self.dt = 1.0 / step_hz
        self.bank = bank
        self.inputs = inputs or InputQueue()
        self.presets = presets or PresetLibrary(UserDirs.default())
        self.errors: deque[tuple[float, str]] = deque(maxlen=50)
        self.input_errors = 0
        self.effects = EffectChain(bank, isf_folders(UserDirs.default(), isf_dirs), self.report)
        self.t = 0.0
        self.step_count = 0
        self.bank.set_many({LOOP: player.loop, PAUSED: player.paused}, "show", immediate=True)
        first = self._load_preset(player.act.preset)
        if first is None:
            raise LoadError.single(player.act.preset, 0, "", "the show's first preset cannot be loaded")
        self.preset: Preset = first
        self.seed: Seed = find_seed(first.seed)
        self.world: WorldSource = world_factory(self.seed)
        self.fade: Fade | None = None
        self._preset_mtime = self._mtime(first)
        self._since_poll = 0.0
        self._since_save = 0.0
        self.user: UserDirs | None = None
        self.hours = OpeningHours(None)  # the venue's opening hours (without any: always open)
        self.latest: WorldFrame = empty_frame(aspect=self.seed.aspect)
        self.act_changes = 0  # counts act changes (a snapshot is taken at each)
        self.resumed: Snapshot | None = None  # the snapshot restored (its GPU part is for the outputs)
        self.clock: Callable[[], float] = time.monotonic  # the tempo's clock (a test may set its own)
        self.now = self.clock()  # the monotonic time of the step under way: tempo.beat_at(now) is its beat
        self.tempo = Tempo(t=self.now)  # the show's tempo and beat (installation.core.tempo)
        self.launches = Launches(self.tempo)  # performers' launches waiting for their beat or bar
        self.decks = Decks.holding(first, first.resolved(self.specs()))  # the A/B crossfader
        self.modulation = Modulator()  # the current preset's routings; the runtime hands it the room's features
        # what each step applies of the inputs drained (a cluster member's: app/cluster.py); None: all of them
        self.tap: Callable[[int, list[Input]], list[Input]] | None = None
        # a preset file saved during the show (its name and text): a cluster member steps it to every
        # member (app/cluster.py); None: taken up at once (reload_preset)
        self.preset_edited: Callable[[str, str], None] | None = None
        self._apply(first, transition_s=0.0)

    @classmethod
    def for_show(cls, name: str, *, bank: ParamBank, step_hz: float = 60.0,
                 world_factory: WorldFactory | None = None, presets: PresetLibrary | None = None,
                 resume: bool = False, isf_dirs: Iterable[Path] = ()) -> Engine:
        """An engine playing the shipped or user show ``name`` on the built-in simulation.

        With ``resume``, it starts in the act (and at the time) where the same show was when it
        last saved its position, so a crash or a power cut does not send the piece back to act 1.
        With ``resume`` it also restores the whole organism from the newest usable snapshot
        (:mod:`installation.core.snapshot`), falling back to older ones, then to the seed.
        """
        user = UserDirs.default()
        library = presets or PresetLibrary(user)
        show = find_show(name, preset_exists=lambda preset: preset in library.names())
        saved = load_position(user, name, RESUME_MAX_AGE_S) if resume else None

        def build(act_index: int | None, position_s: float) -> Engine:
            player = ShowPlayer(show)
            if act_index is not None:
                player.jump(act_index, min(position_s, show.acts[act_index].duration_s))
                player.advance(0.0)  # the jump is where the engine starts, not a change to morph
            engine = cls(player, world_factory or default_world, bank=bank, step_hz=step_hz, presets=library,
                         isf_dirs=isf_dirs)
            engine.user = user
            return engine

        def from_snapshot(snapshot: Snapshot) -> Engine:
            manifest = snapshot.manifest
            if manifest.get("show") != name:
                raise SnapshotError(f"it is of show {manifest.get('show')!r}")
            age = time.time() - float(manifest["saved_at"])
            if not 0 <= age <= RESUME_MAX_AGE_S:
                raise SnapshotError(f"taken {age / 3600:.1f} h ago, more than {RESUME_MAX_AGE_S / 3600:.0f} h")
            act, position = int(manifest["act_index"]), float(manifest["position_s"])
            if not 0 <= act < len(show.acts):
                raise SnapshotError(f"act {act + 1} is not in the show")
            if saved is not None and saved.saved_at > float(manifest["saved_at"]):
                if saved.act_index != act:
                    raise SnapshotError(f"the show went on to act {saved.act_index + 1} after it")
                position = saved.position_s  # noted every few seconds: nearer the crash
            engine = build(act, position)
            engine.restore(snapshot)
            return engine

        if resume:
            restored = first_usable(snapshot_folder(user), name, from_snapshot)
            if restored is not None:
                log.info("resuming %s at act %d, %.0f s, the organism from snapshot %s", name,
                         restored.player.act_index + 1, restored.player.position_s,
                         restored.resumed.name if restored.resumed else "?")
                return restored
        if saved is not None and 0 <= saved.act_index < len(show.acts):
            log.info("resuming %s at act %d, %.0f s", name, saved.act_index + 1, saved.position_s)
            return build(saved.act_index, saved.position_s)
        return build(None, 0.0)

    # -- snapshots --------------------------------------------------------------------------
    def save_snapshot(self) -> Snapshot:
        """The engine's whole state (world, parameters, schedule, show position) as a snapshot
        without its GPU part (the output adds that). Raises TypeError for a world that cannot."""
        save_world = getattr(self.world, "save_state", None)
        if save_world is None:
            raise TypeError("this world keeps no snapshot")
        world, arrays = save_world()
        fade = self.fade
        state: dict[str, Any] = {
            "t": self.t, "step_count": self.step_count, "preset": self.preset.name, "world": world,
            "params": self.bank.save_state(), "hours": self.hours.save_state(), "effects": self.effects.save_state(),
            "fade": None if fade is None else {
                "start": _plain(fade.start), "end": _plain(fade.end), "steps": fade.steps, "done": fade.done,
                "from_look": fade.from_look, "to_look": fade.to_look},
        }
        manifest = {"show": self.player.show.name, "act_index": self.player.act_index, "act": self.player.act.title,
                    "position_s": self.player.position_s, "saved_at": time.time(), "engine": state}
        return Snapshot(manifest, {f"engine.{key}": array for key, array in arrays.items()})

    def restore(self, snapshot: Snapshot) -> None:
        """Put back what :meth:`save_snapshot` took, before the first step. Raises SnapshotError
        (or KeyError, ValueError, TypeError) for one that does not fit; the engine is then unusable."""
        state = snapshot.manifest["engine"]
        restore_world = getattr(self.world, "restore_state", None)
        if restore_world is None:
            raise SnapshotError("this world cannot be restored")
        restore_world(state["world"], snapshot.part("engine"))
        self.hours.restore_state(state["hours"])
        self.effects.restore_state(state.get("effects", []))  # declares their inputs, whose values come next
        self.bank.restore_state(state["params"])
        self.t, self.step_count = float(state["t"]), int(state["step_count"])
        if state["preset"] != self.preset.name:  # a preset recalled in the act
            self._hold(self._load_preset(str(state["preset"])))
        fade = state.get("fade")
        if fade:
            specs = self.specs()
            names = [n for n in fade["end"] if n in specs and n in fade["start"]]
            self.fade = Fade({n: specs[n] for n in names}, {n: specs[n].coerce(fade["start"][n])[0] for n in names},
                             {n: specs[n].coerce(fade["end"][n])[0] for n in names}, int(fade["steps"]),
                             int(fade["done"]), str(fade["from_look"]), str(fade["to_look"]))
        self.resumed = snapshot

    # -- the tick ---------------------------------------------------------------------------
    def step(self) -> WorldFrame:
        events: list[Event] = []
        self.now = self.clock()
        quantize = self.tempo.follow_bank(self.bank, self.now)
        drained = self.inputs.drain()
        if self.tap is not None:
            drained = self.tap(self.step_count, drained)
        for item in self.launches.take(drained, self.now, self.dt, quantize):
            if isinstance(item, Event):
                events.append(item)
            elif isinstance(item, ParamInput):
                self._param_input(item)
            elif isinstance(item, ControlInput):
                self.modulation.control(item.channel, item.number, item.value)
            elif isinstance(item, RoutingsInput):  # until the next preset; saving the preset keeps them
                self.modulation.set_routings(item.routings)
            else:
                self.command(item)
        self.effects.step(self.dt)
        self._follow_hours(self.hours.update())
        self.player.loop = bool(self.bank.get(LOOP))
        self.player.paused = bool(self.bank.get(PAUSED))
        scale = self.bank.number("show.time_scale")
        cues, changes = self.player.advance(self.dt * scale)
        events.extend(cues)
        for change in changes:
            self._enter_act(change)
        self._advance_fade()
        self._follow_decks()
        self._poll_preset_file()
        self._save_position()
        frame = self.world.step(self.dt, events, self.bank.snapshot())
        self.bank.tick(self.dt)
        self.bank.modulate(self.modulation.update(self.t, self.tempo.beat_at(self.now), self.dt, frame,
                                                  self.bank.number(AMOUNT)))
        self.t += self.dt
        self.step_count += 1
        self.latest = frame
        return frame

    def advance(self, seconds: float) -> list[WorldFrame]:
        return [self.step() for _ in range(max(0, round(seconds * self.step_hz)))]

    def on_world_time(self) -> None:
        """Offline (a render faster or slower than real time): the tempo's clock is the world's own
        time, beat 0 now, so what follows the beat (LFOs, launches) keeps to the show, not the wall."""
        self.clock = lambda: self.t
        self.tempo.locate(self.t, 0.0)

    # -- commands ---------------------------------------------------------------------------
    def command(self, item: CommandInput) -> None:
        """The one dispatcher of commands from MIDI, OSC and the UI; a bad one is reported."""
        handlers: dict[Command, Callable[[str], object]] = {
            Command.NEXT_ACT: lambda _: self.player.next(),
            Command.PREVIOUS_ACT: lambda _: self.player.previous(),
            Command.JUMP_ACT: lambda argument: self.player.jump(int(argument)),
            Command.PRESET: self.recall,
            Command.DECK_LOAD: self.load_deck,
            Command.PANIC: lambda _: self._apply(self.preset, transition_s=0.0),
            Command.OPEN_NOW: lambda _: self._follow_hours(self.hours.open_now()),
            Command.CLOSE_NOW: lambda _: self._follow_hours(self.hours.close_now()),
        }
        try:
            state = SPECS[item.command].state
            if state:
                on = switch(item.argument)
                if on is None:  # toggle
                    on = self.bank.spec(state).to_normalized(self.bank.target(state)) < 0.5
                self.bank.set_normalized(state, 1.0 if on else 0.0, item.source)
            elif item.command in handlers:
                handlers[item.command](item.argument)
            elif item.command.value.startswith("effect_"):
                self.effects.command(item.command, item.argument)
            else:
                raise ValueError("it belongs to the MIDI layer")
        except (ValueError, IndexError, LoadError) as error:
            self.report(f"command {item.command} {item.argument} from {item.source}: {error}")

    def recall(self, name: str, crossfade_s: float | None = None) -> bool:
        """Morph to preset ``name``; on any error the current state stays and the error is reported."""
        preset = self._load_preset(name)
        if preset is None:
            return False
        fade = self.bank.number("show.recall_crossfade") if crossfade_s is None else crossfade_s
        self._apply(preset, transition_s=fade)
        return True

    def load_deck(self, name: str) -> None:
        """Load preset ``name`` into the crossfader's off-air deck (ValueError while both are on air)."""
        preset = self._load_preset(name)
        if preset is not None:
            deck = self.decks.load(preset, preset.resolved(self.specs()), self.bank, self.preset)
            log.info("preset %s loaded into deck %s", name, deck.value.upper())

    def report(self, message: str) -> None:
        log.error("%s", message)
        self.errors.append((time.time(), message))

    # -- what outputs ask -------------------------------------------------------------------
    def current_preset(self) -> Preset:
        return self.preset

    def current_look(self) -> str:
        return self.preset.look

    def look_mix(self) -> tuple[str, str, float]:
        """(look faded from, look faded to, how far): renderers crossfade looks with it."""
        decks = self.decks.look_mix()
        if decks is not None:
            return decks
        if self.fade is None or self.fade.factor >= 1.0:
            return (self.preset.look, self.preset.look, 1.0)
        return (self.fade.from_look, self.fade.to_look, self.fade.factor)

    def specs(self) -> dict[str, ParamSpec]:
        return {spec.name: spec for spec in self.bank.specs()}

    # -- internals --------------------------------------------------------------------------
    def _follow_hours(self, change: Transition | None) -> None:
        """Closing fades to black and silence (and holds the timeline if the night pauses);
        opening fades back (from the first act if the schedule restarts the show)."""
        if change is None:
            return
        level = 1.0 if change.open else 0.0
        values: dict[str, object] = {name: value for name, value in ((BLACKOUT, 1.0 - level), (OPEN_LEVEL, level))
                                     if name in self.bank}
        self.bank.set_many(values, "hours", fade_s=change.fade_s)
        if change.hold is not None:
            self.bank.set(PAUSED, change.hold, "hours")
        if change.restart:
            self.player.jump(0)
        log.info("%s %s", "opening" if change.open else "closing", "now (operator)" if change.manual else "(schedule)")

    def _param_input(self, item: ParamInput) -> None:
        try:
            self.bank.set(item.name, item.value, item.source, fade_s=item.fade_s)
            self.decks.touch(item.name)
        except (KeyError, ValueError, TypeError) as error:
            self.input_errors += 1
            self.report(f"parameter {item.name} from {item.source}: {error}")

    def _load_preset(self, name: str) -> Preset | None:
        try:
            return self.presets.load(name, self.specs())
        except (LoadError, ValueError) as error:
            self.report(str(error))
            return None

    def _enter_act(self, change: ActChange) -> None:
        if change.previous is None and self.step_count == 0:
            return  # the first act was applied when the engine was built
        self._since_save = RESUME_SAVE_S  # note a new act at once
        self.act_changes += 1
        preset = self._load_preset(self.player.act.preset)
        if preset is None:
            return
        if self.player.act.transition_by == "crossfader" and self.decks.off_air() is not None:
            self.decks.load(preset, preset.resolved(self.specs()), self.bank, self.preset)
            self.decks.fade_to_off_air(change.transition_s, self.step_hz)
        else:  # a fader held between the decks keeps the performer's mix: the act morphs instead
            self._apply(preset, transition_s=change.transition_s)

    def _apply(self, preset: Preset, transition_s: float) -> None:
        effect_values = self.effects.apply(preset.effects, transition_s, preset.path)  # declares their inputs
        specs = self.specs()
        target = preset.resolved(specs) | effect_values
        start = {name: self.bank.target(name) for name in target}
        previous_look = self.preset.look if self.step_count else preset.look
        self._go_on_air(preset, transition_s)
        position = self.decks.put_on_air(preset, target)
        if self.bank.target(CROSSFADER) != position:
            self.bank.set(CROSSFADER, position, "engine", immediate=True)
        if transition_s <= 0:
            self.fade = None
            self.bank.set_many(target, "preset", immediate=True)
            return
        changing = {name for name in target if start[name] != target[name]}
        self.fade = Fade({n: specs[n] for n in changing}, {n: start[n] for n in changing},
                         {n: target[n] for n in changing},
                         max(1, round(transition_s * self.step_hz)), from_look=previous_look, to_look=preset.look)

    def _go_on_air(self, preset: Preset, transition_s: float) -> None:
        """Make ``preset`` the current one, growing the world into its seed over ``transition_s``."""
        if preset.seed != self.seed.name:
            try:
                self.seed = find_seed(preset.seed)
                self.world.reseed(self.seed, transition_s)
            except LoadError as error:
                self.report(str(error))
        self.preset = preset
        self._preset_mtime = self._mtime(preset)
        self.modulation.set_routings(preset.modulation)

    def _follow_decks(self) -> None:
        """The crossfader moved: it ends a recall's fade, and from its midpoint on, deck B's preset
        (look, seed, hot reload) is the current one, before it deck A's."""
        before = self.decks.nearer()
        if not self.decks.step(self.bank):
            return
        self.fade = None
        if self.decks.nearer() is not before:
            self._go_on_air(self.decks.presets[self.decks.nearer()], self.bank.number("show.recall_crossfade"))

    def _advance_fade(self) -> None:
        fade = self.fade
        if fade is None:
            return
        fade.done += 1
        if fade.end:  # an effect that left during the fade took its parameters with it
            values = morph(fade.specs, fade.start, fade.end, fade.factor)
            self.bank.set_many({name: value for name, value in values.items() if name in self.bank}, "show",
                               immediate=True)
        if fade.factor >= 1.0:
            self.fade = None

    @staticmethod
    def _mtime(preset: Preset) -> float:
        try:
            return preset.path.stat().st_mtime if preset.path else 0.0
        except OSError:
            return 0.0

    def _save_position(self) -> None:
        """Every few seconds, note the act and time for :meth:`for_show` ``resume``."""
        self._since_save += self.dt
        if self.user is None or self._since_save < RESUME_SAVE_S:
            return
        self._since_save = 0.0
        try:
            save_position(self.user, ShowPosition(self.player.show.name, self.player.act_index,
                                                  self.player.position_s, time.time()))
        except OSError as error:
            self.report(f"cannot save the show position: {error}")

    def _poll_preset_file(self) -> None:
        """Hot reload: a preset saved in any editor is live within a second; a broken one is reported."""
        self._since_poll += self.dt
        if self._since_poll < PRESET_POLL_S:
            return
        self._since_poll = 0.0
        mtime = self._mtime(self.preset)
        if mtime == self._preset_mtime or self.preset.path is None:
            return
        self._preset_mtime = mtime
        try:
            text = read_text(self.preset.path)
        except LoadError as error:  # a hostile save (a pipe, binary, too large): the last good state stays
            self.report(str(error))
            return
        if self.preset_edited is not None:
            self.preset_edited(self.preset.name, text)
        else:
            self.reload_preset(self.preset.name, text)

    def restore_edited_preset(self, name: str, text: str) -> None:
        """After :meth:`restore`: the current preset as it was edited during the show (``text``, as a
        cluster's leader stepped it), in effect without a morph: the parameters came with the
        snapshot, its routings come from the text."""
        if name == self.preset.name:
            self._hold(self._parse_preset(name, text))

    def _hold(self, preset: Preset | None) -> None:
        """``preset`` current as a snapshot had it (its parameters are restored, not morphed to)."""
        if preset is not None and preset.seed == self.seed.name:
            self.preset = preset
            self._preset_mtime = self._mtime(preset)
            self.modulation.set_routings(preset.modulation)

    def _parse_preset(self, name: str, text: str) -> Preset | None:
        try:
            return parse_preset(TomlSource.parse(text, self.presets.path(name)), self.specs())
        except (LoadError, ValueError) as error:
            self.report(str(error))
            return None

    def reload_preset(self, name: str, text: str) -> bool:
        """The current preset ``name`` as its file now says (``text``), morphed to in half a second;
        a broken one is reported and the show keeps its state. A preset no longer current (an act
        changed meanwhile) is left for its next recall."""
        reloaded = self._parse_preset(name, text) if name == self.preset.name else None
        if reloaded is None:
            return False
        log.info("preset %s reloaded from %s", reloaded.name, reloaded.path)
        self._apply(reloaded, transition_s=PRESET_RELOAD_S)
        return True


def _plain(values: dict[str, Value]) -> dict[str, object]:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}


def default_world(seed: Seed) -> WorldSource:
    """The built-in simulation kernel grown from ``seed``."""
    from installation.sim.kernel import Kernel

    return Kernel(seed)

