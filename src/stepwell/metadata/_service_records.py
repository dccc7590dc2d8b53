"""The records of the services around runs: API tokens, deployments, events, fires.

Kept apart from the run, task and artifact records so that reading runs does not
build these classes (each frozen dataclass costs ~1 ms to create at import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TokenRecord:
    """An API token of the UI server (``stepwell server``), without its secret.

    The secret is shown once, when the token is created; the store keeps only
    its SHA-256 hash, which no record carries.

    Attributes:
        token_id: a short random id that names the token (``token list``, logs).
        user: the user name the token signs in as.
        note: what the token is for, as given when it was created.
        created_at: when it was created.
        last_used_at: when it was last accepted (kept to the minute), or ``None``.
        revoked_at: when it was revoked, or ``None`` while it is valid.
    """

    token_id: str
    user: str
    note: str | None
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


TOKEN_LAST_USED_RESOLUTION = 60.0
"""Seconds: a token's ``last_used_at`` is rewritten at most this often."""


@dataclass(frozen=True)
class DeploymentRecord:
    """One version of a deployed flow (``python flow.py deploy``).

    Attributes:
        name: the deployment's name (the flow's, or ``project.branch.Flow``).
        version: 1 for the first deploy, one more for each deploy after it.
        flow_name: the flow it runs.
        spec: what the version runs and when, as the deploying tool wrote it
            (a JSON object: code package key, datastore, parameters, schedule,
            triggers, ...).
        deployed_by: who deployed it.
        deployed_at: when.
        active: whether it is the version in service (one per name at most;
            none once undeployed).
    """

    name: str
    version: int
    flow_name: str
    spec: dict[str, Any]
    deployed_by: str
    deployed_at: float
    active: bool = True


@dataclass(frozen=True)
class EventRecord:
    """An event published for ``@trigger`` (``stepwell event publish``): ids only grow."""

    event_id: int
    name: str
    payload: dict[str, Any]
    published_by: str
    published_at: float


@dataclass(frozen=True)
class FireRecord:
    """One reason a deployment ran (or is about to): claimed once, by one scheduler.

    ``fire_key`` names the reason (``schedule:<UTC time>``, ``event:<id>``,
    ``finish:<pathspec>``); ``trigger`` is what fired it (given to the run as
    ``current.trigger``); ``run_id`` is set once the run exists, so a fire
    claimed by a scheduler that died before starting it is found again.
    """

    deployment: str
    fire_key: str
    version: int
    claimed_by: str
    claimed_at: float
    trigger: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
