"""The venue's projectors over PJLink: powered on the opening hours, watched for /status.

One asyncio loop in a daemon thread talks to every projector through ``aiopjlink2`` (a
maintained PJLink class 1/2 client: one short TCP connection per command). Each projector has
its own task, so one that hangs or refuses delays nobody: every command is bounded by
``timeout_s``; a projector that does not answer is reported once (a warning in the log, which
the operator's error list shows), marked unreachable and retried with a growing pause.

Every poll reads power, lamp hours and the error state, asks
:func:`installation.core.projectors.wanted_power` whether the projector should be on now
(the lead before opening, the off_after after closing) and sends power on or off only when
the wanted state differs from the reported one, not again while the projector is on its way
(warming or cooling). The input is selected once the projector reports it is on (projectors
refuse it while warming). The GUI and engine threads only call :meth:`Projectors.status`,
:meth:`Projectors.poke` and :meth:`Projectors.stop`, none of which waits on a projector.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiopjlink import (
    Errors,
    Lamp,
    PJLink,
    PJLinkERR1,
    PJLinkERR3,
    PJLinkException,
    PJLinkNoConnection,
    PJLinkPassword,
    Power,
    Sources,
)

from installation.app.wiring import Started
from installation.core.projectors import ProjectorSpec, ScheduleLike, wanted_power
from installation.core.schedule import state_at
from installation.core.venue import Venue

log = logging.getLogger(__name__)

POLL_S = 10.0  # a poll of every projector this often
TIMEOUT_S = 2.5  # for each PJLink command
RETRY_S = 5.0  # the first retry of a projector that did not answer; doubles up to MAX_RETRY_S
MAX_RETRY_S = 120.0
RESEND_S = 60.0  # a power command the projector did not follow is sent again after this long

POWER_NAMES = {Power.State.OFF: "off", Power.State.ON: "on", Power.State.WARMING: "warming",
               Power.State.COOLING: "cooling"}
LEVEL_NAMES = {Errors.Level.OK: "ok", Errors.Level.WARN: "warning", Errors.Level.ERROR: "error"}


@dataclass
class ProjectorState:
    """What is known of one projector, as /status shows it (written by the loop's thread only)."""

    spec: ProjectorSpec
    power: str = "unknown"  # on, off, warming, cooling, unknown (not answering, or not asked yet)
    lamp_hours: int | None = None  # the first lamp's; None for a projector without a lamp (laser)
    errors: dict[str, str] = field(default_factory=dict)  # fan, lamp, temperature, cover, filter, other
    reachable: bool = False
    last_error: str = ""
    wanted: str = "on"
    input_selected: bool = False  # the configured input has been set since the projector came on
    sent: str = ""  # the power command last sent ("on"/"off"), until the projector reports it
    sent_at: float = 0.0  # the loop's clock when it was sent
    failures: int = 0  # polls in a row that failed
    last_answer: str = ""  # ISO time (UTC) of the last poll the projector answered
    polls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.spec.name, "host": self.spec.host, "port": self.spec.port, "output": self.spec.output,
                "power": self.power, "lamp_hours": self.lamp_hours, "errors": dict(self.errors),
                "reachable": self.reachable, "last_error": self.last_error, "wanted": self.wanted,
                "input": self.spec.input, "last_answer": self.last_answer}


def describe(error: BaseException) -> str:
    """A short reason for the operator: refused, timed out, connection refused, ..."""
    if isinstance(error, PJLinkPassword):
        return f"refused: {error} (check the venue's password)"
    if isinstance(error, TimeoutError):
        return "timed out: no answer"
    cause = error.__cause__
    if isinstance(error, PJLinkNoConnection) and isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
        return f"no connection: {cause}"  # refused, no route: switched off at the wall, a cable out
    text = str(error) or type(error).__name__
    if "timeout" in text or "did not" in text:
        return f"timed out: {text}"
    return text


class Projectors:
    """Watches and powers the projectors that ``specs_of`` names, in a thread of its own.

    ``specs_of`` and ``state_of`` are read at every poll, so a re-read venue file is followed
    (a projector added, removed or moved is picked up within a second). ``clock`` gives the
    wall-clock time (aware, UTC) that the schedule is read at; tests inject their own.
    """

    def __init__(self, specs_of: Callable[[], Sequence[ProjectorSpec]],
                 state_of: Callable[[datetime], ScheduleLike | None] = lambda now: None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 poll_s: float = POLL_S, timeout_s: float = TIMEOUT_S, retry_s: float = RETRY_S,
                 max_retry_s: float = MAX_RETRY_S, resend_s: float = RESEND_S) -> None:
        self.specs_of = specs_of
        self.state_of = state_of
        self.clock = clock
        self.poll_s, self.timeout_s, self.retry_s, self.max_retry_s = poll_s, timeout_s, retry_s, max_retry_s
        self.resend_s = resend_s
        self._lock = threading.Lock()
        self._states: dict[str, ProjectorState] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakes: dict[str, asyncio.Event] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- what the other threads call (none of it waits on a projector) ----------------------
    def start(self) -> Projectors:
        self._thread = threading.Thread(target=self._run, name="myco-projectors", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; an open connection is dropped. Safe to call twice."""
        self._stopping = True
        self.poke()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def poke(self) -> None:
        """Poll every projector now (a changed venue or schedule, a test)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._wake_all)
        except RuntimeError:  # closed between the check and the call
            pass

    def status(self) -> list[dict[str, Any]]:
        """Every projector of the venue, as /status shows it (one not yet asked: power unknown)."""
        with self._lock:
            known = {name: state.as_dict() for name, state in self._states.items()}
        entries = []
        for spec in self._specs():
            entry = known.get(spec.name) or ProjectorState(spec).as_dict()
            entries.append(entry)
        return entries

    def polls(self, name: str) -> int:
        """How many polls of ``name`` have finished (answered or not): for tests and the soak."""
        with self._lock:
            state = self._states.get(name)
            return state.polls if state else 0

    # -- the loop's thread ------------------------------------------------------------------
    def _specs(self) -> tuple[ProjectorSpec, ...]:
        try:
            return tuple(self.specs_of())
        except Exception as error:  # a venue half replaced: try again at the next poll
            log.debug("projectors: cannot read the venue: %s", error)
            return ()

    def _wake_all(self) -> None:
        for event in self._wakes.values():
            event.set()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._loop = None
                loop.close()

    async def _sleep(self, seconds: float, wake: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except TimeoutError:
            pass
        wake.clear()

    async def _main(self) -> None:
        tasks: dict[str, asyncio.Task[None]] = {}
        self._wakes[""] = supervisor = asyncio.Event()
        self._ready.set()
        try:
            while not self._stopping:
                specs = {spec.name: spec for spec in self._specs()}
                for name in [name for name, task in tasks.items() if name not in specs or task.done()]:
                    tasks.pop(name).cancel()
                    self._wakes.pop(name, None)
                    with self._lock:
                        self._states.pop(name, None)
                for name in specs:
                    if name not in tasks:
                        self._wakes[name] = asyncio.Event()
                        tasks[name] = asyncio.create_task(self._watch(name), name=f"projector {name}")
                await self._sleep(min(1.0, self.poll_s), supervisor)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    def _spec(self, name: str) -> ProjectorSpec | None:
        return next((spec for spec in self._specs() if spec.name == name), None)

    async def _watch(self, name: str) -> None:
        link: PJLink | None = None
        address: tuple[str, int, str] | None = None
        state: ProjectorState | None = None
        while not self._stopping:
            spec = self._spec(name)
            if spec is None:
                return
            if (spec.host, spec.port, spec.password) != address or state is None:
                address = (spec.host, spec.port, spec.password)
                link = PJLink(spec.host, spec.port, spec.password or None, timeout=self.timeout_s)
                state = ProjectorState(spec)
                with self._lock:
                    self._states[name] = state
            state.spec = spec
            assert link is not None
            now = self.clock()
            try:
                schedule = self.state_of(now)
            except Exception as error:
                log.warning("projector %s: cannot read the schedule (%s); keeping it on", name, error)
                schedule = None
            wanted = wanted_power(schedule, now, spec.lead_s, spec.off_after_s)
            delay = self.poll_s
            try:
                await self._poll(link, spec, state, wanted)
            except (PJLinkException, TimeoutError, OSError) as error:
                delay = self._failed(state, describe(error))
            except Exception as error:  # an answer this code did not expect: reported, and tried again
                log.exception("projector %s: unexpected failure", name)
                delay = self._failed(state, f"unexpected: {error!r}")
            with self._lock:
                state.polls += 1
            await self._sleep(delay, self._wakes[name])

    async def _ask(self, call: Callable[[], Any]) -> Any:
        """One PJLink command, never longer than ``timeout_s`` (the library's own timeout applies
        to each step of a command: connect, greeting, answer)."""
        return await asyncio.wait_for(call(), self.timeout_s)

    async def _poll(self, link: PJLink, spec: ProjectorSpec, state: ProjectorState, wanted: bool) -> None:
        power = POWER_NAMES[await self._ask(link.power.get)]
        try:
            lamps: list[tuple[int, Lamp.State]] = await self._ask(link.lamps.status)
            lamp_hours: int | None = lamps[0][0] if lamps else None
        except PJLinkERR1:  # no lamp (a laser or LED projector)
            lamp_hours = None
        found = await self._ask(link.errors.query)
        errors = {category.value: LEVEL_NAMES[level] for category, level in found.items()}
        self._report_errors(state, errors)
        self._answered(state, power=power, lamp_hours=lamp_hours, errors=errors, wanted="on" if wanted else "off")
        if power != "on":
            state.input_selected = False
        if state.sent and (power == state.sent or power == ("warming" if state.sent == "on" else "cooling")):
            state.sent = ""  # on its way: the command was followed
        loop = asyncio.get_running_loop()
        command = ""
        if wanted and power == "off":
            command = "on"
        elif not wanted and power == "on":
            command = "off"
        if command and (state.sent != command or loop.time() - state.sent_at >= self.resend_s):
            if state.sent == command:
                log.warning("projector %s did not follow power %s; sending it again", spec.name, command)
            try:
                await self._ask(link.power.turn_on if command == "on" else link.power.turn_off)
            except PJLinkERR3:  # not now (cooling down, warming up): asked again at the next poll
                pass
            else:
                log.info("projector %s: power %s (the venue %s)", spec.name, command,
                         "opens soon or is open" if command == "on" else "has closed")
                state.sent, state.sent_at = command, loop.time()
                power = POWER_NAMES[await self._ask(link.power.get)]
                with self._lock:
                    state.power = power
        if spec.input and wanted and power == "on" and not state.input_selected:
            await self._select_input(link, spec, state)

    async def _select_input(self, link: PJLink, spec: ProjectorSpec, state: ProjectorState) -> None:
        mode = Sources.Mode(spec.input[0])
        try:
            current = await self._ask(link.sources.get)
            if current != (mode, spec.input[1]):
                await self._ask(lambda: link.sources.set(mode, spec.input[1]))
                log.info("projector %s: input %s selected", spec.name, spec.input)
            state.input_selected = True
        except PJLinkERR3:  # still warming: at the next poll
            pass
        except PJLinkException as error:
            if state.last_error != f"input {spec.input}: {error}":
                log.warning("projector %s: input %s could not be selected: %s", spec.name, spec.input, error)
            with self._lock:
                state.last_error = f"input {spec.input}: {error}"
            state.input_selected = True  # not every poll: the next power on tries again

    def _report_errors(self, state: ProjectorState, errors: dict[str, str]) -> None:
        before = {part: level for part, level in state.errors.items() if level != "ok"}
        now = {part: level for part, level in errors.items() if level != "ok"}
        if now != before:
            if now:
                log.warning("projector %s reports %s", state.spec.name,
                            ", ".join(f"{part} {level}" for part, level in sorted(now.items())))
            else:
                log.info("projector %s reports no error any more", state.spec.name)

    def _answered(self, state: ProjectorState, **read: Any) -> None:
        """Record a poll the projector answered, with what it said (one step for /status)."""
        if not state.reachable and state.failures:
            log.info("projector %s (%s:%d) answers again", state.spec.name, state.spec.host, state.spec.port)
        with self._lock:
            for name, value in read.items():
                setattr(state, name, value)
            state.reachable = True
            state.failures = 0
            if not state.last_error.startswith("input "):
                state.last_error = ""
            state.last_answer = self.clock().isoformat(timespec="seconds")

    def _failed(self, state: ProjectorState, reason: str) -> float:
        """Record a poll that failed; returns how long to wait before the next try."""
        if state.reachable or state.failures == 0 or reason != state.last_error:
            log.warning("projector %s (%s:%d) does not answer: %s; retrying", state.spec.name,
                        state.spec.host, state.spec.port, reason)
        with self._lock:
            state.reachable = False
            state.power = "unknown"
            state.last_error = reason
            state.failures += 1
            state.sent = ""
        return float(min(self.retry_s * 2 ** (state.failures - 1), self.max_retry_s))


# -- wiring -----------------------------------------------------------------------------------

def schedule_state(venue: Venue | None, now: datetime) -> ScheduleLike | None:
    """The venue's opening hours at ``now``; None (always open) without a schedule."""
    if venue is None or venue.schedule is None:
        return None
    return state_at(venue.schedule, now)


def start_projectors(venue_of: Callable[[], Venue | None],
                     clock: Callable[[], datetime] = lambda: datetime.now(UTC), **options: Any) -> Started:
    """The projectors of the venue that ``venue_of`` gives (read at every poll, so a re-read file
    is followed), watched and powered on its schedule."""

    def specs() -> tuple[ProjectorSpec, ...]:
        current = venue_of()
        return current.projectors if current is not None else ()

    projectors = Projectors(specs, lambda now: schedule_state(venue_of(), now), clock, **options).start()
    return Started("projectors", projectors.stop, lambda: {}, projectors, input=False)
