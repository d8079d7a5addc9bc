"""What an action answers as JSON to an API call (a browser's form post is redirected back to its page),
documented in the OpenAPI schema and checked by schemathesis as the reads are.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from dashboard.operations_models import ConfigCheck


class CommandSent(BaseModel):
    """A control command published on sys.control; `note` says what it waits for, when it waits."""

    command: str
    target: str
    entry_id: str
    note: str = ""  # absent when nothing holds it back


class RestartSent(BaseModel):
    command: Literal["restart"]
    target: str
    pid: int
    supervisor: str
    entry_id: str


class ProfileSwitchSent(BaseModel):
    command: Literal["set_profile"]
    args: dict[str, str]
    entry_id: str


class JobRunSent(BaseModel):
    """run_job sent to the worker; the run's record carries `command_id` as its trigger."""

    command: Literal["run_job"]
    job: str
    command_id: str
    entry_id: str


class ProfileDecisionSent(BaseModel):
    command: Literal["profile_decision"]
    args: dict[str, str]  # profile, version, decision
    entry_id: str


class ConfigReload(ConfigCheck):
    """The env file's validation; when valid, the reload command's entry id."""

    entry_id: str = ""  # absent when the file is invalid: nothing was sent


class AlertAcked(BaseModel):
    id: int
    acked_by: str


class ScenarioStarted(BaseModel):
    run_id: str
    scenario: str


class OrderSent(BaseModel):
    """The manual order's intent on exec.intents; its orderLinkId finds it in the open orders."""

    intent_id: str
    orderLinkId: str
    entry_id: str


class SessionRevoked(BaseModel):
    handle: str


class UserUnlocked(BaseModel):
    user: str
    records: int  # lockout records cleared
