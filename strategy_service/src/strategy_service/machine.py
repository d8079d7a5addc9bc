"""The per-symbol state machine: IDLE -> WATCHING -> ARMED -> ENTERED -> EXITING -> COOLDOWN.

The only way to change state is `fire(event)`, and it follows the TRANSITIONS table: a pair that
is not in the table raises, so an illegal transition cannot happen. Timeouts are events too, fired
by `expire(now_ms)` from message time.
"""

from __future__ import annotations

from enum import StrEnum

from strategy_service.profile import TimingParams


class State(StrEnum):
    IDLE = "IDLE"
    WATCHING = "WATCHING"
    ARMED = "ARMED"  # entry intent sent, waiting for the fill
    ENTERED = "ENTERED"  # position open
    EXITING = "EXITING"  # reduce-only exit sent, waiting to be flat
    COOLDOWN = "COOLDOWN"  # flat, resting before the next setup


class Event(StrEnum):
    SETUP = "setup"  # a side scores above watch_score
    FADE = "fade"  # ... and no longer does
    ENTRY_SENT = "entry_sent"
    FILLED = "filled"  # a position exists
    ENTRY_FAILED = "entry_failed"  # rejected or cancelled without a fill
    EXIT_SENT = "exit_sent"
    EXIT_FAILED = "exit_failed"
    FLAT = "flat"  # the position is closed (our exit, TP or SL)
    TIMEOUT = "timeout"


S, E = State, Event
TRANSITIONS: dict[tuple[State, Event], State] = {
    (S.IDLE, E.SETUP): S.WATCHING,
    (S.WATCHING, E.FADE): S.IDLE,
    (S.WATCHING, E.TIMEOUT): S.IDLE,
    (S.WATCHING, E.ENTRY_SENT): S.ARMED,
    (S.ARMED, E.FILLED): S.ENTERED,
    # a position we did not wait for (a fill after the entry timed out, or one adopted from execution's
    # view): the machine follows the exchange and manages it (the service keeps manual positions out)
    (S.IDLE, E.FILLED): S.ENTERED,
    (S.WATCHING, E.FILLED): S.ENTERED,
    (S.COOLDOWN, E.FILLED): S.ENTERED,
    (S.ARMED, E.ENTRY_FAILED): S.COOLDOWN,
    (S.ARMED, E.TIMEOUT): S.COOLDOWN,
    (S.ENTERED, E.EXIT_SENT): S.EXITING,
    (S.ENTERED, E.FLAT): S.COOLDOWN,
    (S.EXITING, E.FLAT): S.COOLDOWN,
    (S.EXITING, E.EXIT_FAILED): S.ENTERED,
    (S.EXITING, E.TIMEOUT): S.ENTERED,  # so the exit is sent again
    (S.COOLDOWN, E.TIMEOUT): S.IDLE,
}


class IllegalTransition(Exception):
    pass


class Machine:
    """One symbol's state, the message time it was entered, and the side it is about."""

    __slots__ = ("state", "since_ms", "side", "setup_ms")

    def __init__(self, *, state: State = State.IDLE, since_ms: int = 0, side: str = "") -> None:
        self.state = state  # set here or by fire(); a restart rebuilds a machine in its last state
        self.since_ms = since_ms
        self.side = side
        self.setup_ms = 0  # bar time of the setup that armed the entry: the intent's identity

    def can(self, event: Event) -> bool:
        return (self.state, event) in TRANSITIONS

    def fire(self, event: Event, now_ms: int) -> State:
        nxt = TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise IllegalTransition(f"{self.state.value} --{event.value}-->")
        self.state, self.since_ms = nxt, now_ms
        return nxt

    def expire(self, now_ms: int, t: TimingParams) -> bool:
        """Fire TIMEOUT when the state has lasted its limit; True when it did."""
        limit = {S.WATCHING: t.watch_timeout_ms, S.ARMED: t.armed_timeout_ms,
                 S.EXITING: t.exit_timeout_ms, S.COOLDOWN: t.cooldown_ms}.get(self.state)
        if limit is not None and now_ms - self.since_ms >= limit:
            self.fire(Event.TIMEOUT, now_ms)
            return True
        return False
