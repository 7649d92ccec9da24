"""A cluster member's render steps (``installation/app/lockstep.py``, shared by the headless and
the windowed front-ends), fed the frames of a real engine: one step per render group, by the
group's fixed dt, with every step's events; nothing stepped where a catch-up from the leader's
snapshot ended the tick, and the frames from before it dropped."""

from __future__ import annotations

from installation.app.compose import build_engine
from installation.app.lockstep import Lockstep
from installation.app.options import RunOptions
from installation.core.cluster import RENDER_GROUP
from installation.engine import Engine


def engine() -> Engine:
    return build_engine(RunOptions(step_hz=60.0, audio=False, status=None))


def test_one_render_step_per_group_by_its_fixed_dt_with_every_steps_events() -> None:
    member = engine()
    lockstep = Lockstep(member)
    assert RENDER_GROUP == 2  # the groups below are of two steps
    assert lockstep.due([member.step()]) is None  # step 1: mid-group
    last = member.step()
    due = lockstep.due([last])
    assert due is not None
    frame, dt = due
    assert (frame.step, dt) == (last.step, RENDER_GROUP * member.dt)
    assert lockstep.due([]) is None  # nothing new: nothing to step
    ticks = [[member.step(), member.step()] for _ in range(60)]  # ticks of one group each, with the events
    steps = [lockstep.due(tick) for tick in ticks]
    assert all(due is not None and due[0].events == tick[0].events + tick[1].events
               for due, tick in zip(steps, ticks, strict=True))
    assert any(tick[0].events for tick in ticks), "some steps had events to carry"


def test_a_tick_that_caught_up_from_the_leaders_snapshot_steps_nothing_and_drops_the_frames_before_it() -> None:
    leader, follower = engine(), engine()
    for _ in range(8):
        leader.step()
    snapshot = leader.save_snapshot()  # at a group's end (step 8): the leader's picture is after that step
    lockstep = Lockstep(follower)
    assert lockstep.due([follower.step()]) is None  # step 1 pending
    stale = follower.step()  # the tick's own step 2, then the snapshot is adopted
    follower.restore(snapshot)
    assert follower.step_count == 8 and follower.resumed is not None
    assert lockstep.due([stale]) is None, "the restored picture is the leader's after step 8: no second step"
    # the headless output takes the snapshot's picture at its next render step, the windowed one at once
    for taken_at_once in (False, True):
        if taken_at_once:
            follower.resumed = None
        ours = [follower.step(), follower.step()]
        theirs = [leader.step(), leader.step()]
        due = lockstep.due(ours)
        assert due is not None
        assert (due[0].step, due[0].events) == (theirs[-1].step, theirs[0].events + theirs[1].events)
