"""The state machine: the legal path, and properties over arbitrary event sequences."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategy_service.profile import TimingParams
from strategy_service.machine import TRANSITIONS, Event, IllegalTransition, Machine, State

pytestmark = pytest.mark.unit

T = TimingParams(watch_timeout_ms=100, armed_timeout_ms=200, exit_timeout_ms=300, cooldown_ms=400)
LEGAL_EDGES = {(a, b) for (a, _), b in TRANSITIONS.items()}


def test_the_whole_trade_cycle():
    m = Machine()
    for event, state in [(Event.SETUP, State.WATCHING), (Event.ENTRY_SENT, State.ARMED),
                         (Event.FILLED, State.ENTERED), (Event.EXIT_SENT, State.EXITING),
                         (Event.FLAT, State.COOLDOWN)]:
        assert m.fire(event, 0) is state
    assert not m.expire(399, T) and m.state is State.COOLDOWN
    assert m.expire(400, T) and m.state is State.IDLE


@pytest.mark.parametrize(("state", "event"), [(State.IDLE, Event.ENTRY_SENT), (State.IDLE, Event.FLAT),
                                              (State.WATCHING, Event.EXIT_SENT), (State.COOLDOWN, Event.SETUP),
                                              (State.ENTERED, Event.SETUP), (State.ARMED, Event.EXIT_SENT)])
def test_illegal_transitions_raise_and_change_nothing(state, event):
    m = Machine(state=state, since_ms=7)
    with pytest.raises(IllegalTransition):
        m.fire(event, 99)
    assert (m.state, m.since_ms) == (state, 7)


@given(st.lists(st.tuples(st.sampled_from(list(Event)), st.integers(0, 500)), max_size=60))
def test_any_event_sequence_only_walks_legal_edges(steps):
    m, now = Machine(), 0
    for event, dt in steps:
        now += dt
        before = m.state
        if m.can(event):
            m.fire(event, now)
            assert (before, m.state) in LEGAL_EDGES and m.since_ms == now
        else:
            with pytest.raises(IllegalTransition):
                m.fire(event, now)
            assert m.state is before
        before = m.state
        if m.expire(now, T):
            assert (before, m.state) in LEGAL_EDGES and (before, Event.TIMEOUT) in TRANSITIONS


@given(st.sampled_from(list(State)), st.integers(0, 1000))
def test_timeouts_fire_exactly_at_their_limit(state, elapsed):
    limits = {State.WATCHING: 100, State.ARMED: 200, State.EXITING: 300, State.COOLDOWN: 400}
    m = Machine(state=state, since_ms=1000)
    fired = m.expire(1000 + elapsed, T)
    assert fired == (state in limits and elapsed >= limits[state])
    if fired:
        assert m.state is TRANSITIONS[(state, Event.TIMEOUT)] and m.since_ms == 1000 + elapsed
    else:
        assert m.state is state


def test_no_state_is_a_dead_end():
    reachable, todo = {State.IDLE}, [State.IDLE]
    while todo:
        s = todo.pop()
        for (a, _), b in TRANSITIONS.items():
            if a is s and b not in reachable:
                reachable.add(b)
                todo.append(b)
    assert reachable == set(State)
    assert all(any(a is s for a, _ in TRANSITIONS) for s in State)
