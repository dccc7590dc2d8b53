"""Resolve a run's parameter values before anything runs.

Precedence, as in Metaflow: the command line (or ``Runner`` keyword), then the
environment (``STEPWELL_RUN_<NAME>``, then Metaflow's ``METAFLOW_RUN_<NAME>``;
``NAME`` is the parameter's name upper-cased with ``-`` as ``_``), then the default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stepwell.exceptions import ParameterError
from stepwell.flow import FlowSpec, ParameterContext


def parameter_variables(name: str) -> tuple[str, str]:
    """The environment variables that give parameter ``name`` a value, stepwell's first."""
    key = name.upper().replace("-", "_")
    return f"STEPWELL_RUN_{key}", f"METAFLOW_RUN_{key}"


def resolve_parameters(
    flow_cls: type[FlowSpec],
    given: Mapping[str, Any],
    *,
    user: str,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Values by attribute name. ``given`` maps a parameter's name (or attribute) to a raw value.

    A parameter not in ``given`` takes its value from ``env`` (default: the
    process environment) when one of :func:`parameter_variables` is set.

    Raises :class:`ParameterError` naming the parameter for a missing required
    value, a value of the wrong type, or a name the flow does not declare.
    """
    declared = flow_cls._sw_parameters()
    by_name = {p.name: attr for attr, p in declared.items()}
    unknown = [k for k in given if k not in by_name and k not in declared]
    if unknown:
        valid = ", ".join(sorted(by_name)) or "none"
        raise ParameterError(
            f"{flow_cls.__name__} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {valid}."
        )
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for attr, param in declared.items():
        raw = given.get(param.name, given.get(attr))
        variable = next((v for v in parameter_variables(param.name) if env.get(v)), None)
        if raw is not None:
            value = param.convert(raw, "the command line")
        elif variable is not None:
            value = param.convert(env[variable], f"the environment variable {variable}")
        else:
            context = ParameterContext(flow_cls.__name__, user, param.name)
            value = param.resolve_default(context)
        if value is None and param.required:
            raise ParameterError(
                f"Parameter '{param.name}' is required. Pass --{param.name} <{param.type_label}>.",
                parameter=param.name,
            )
        values[attr] = value
    return values


@dataclass(frozen=True)
class StoredValue:
    """A parameter value already in the datastore (resume): its ref, and its JSON text.

    The new run refers to the same blob instead of reading and writing it again.
    """

    ref: Any
    json_text: str


def parameters_as_json(values: Mapping[str, Any]) -> dict[str, str]:
    """Parameter values as JSON text for the run's metadata (repr where not JSON-able)."""
    out = {}
    for name, value in values.items():
        if isinstance(value, StoredValue):
            out[name] = value.json_text
            continue
        try:
            out[name] = json.dumps(value)
        except TypeError:
            out[name] = json.dumps(repr(value))
    return out


def deploy_time_values(
    flow_cls: type, username: str, configs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a deployment records: each parameter's default (None without one) and each
    config's value (``configs`` by name or attribute, else its default), by attribute."""
    values: dict[str, Any] = {}
    for attr, param in flow_cls._sw_parameters().items():  # type: ignore[attr-defined]
        given = (configs or {}).get(param.name, (configs or {}).get(attr))
        if param.kind == "config" and given is not None:
            values[attr] = param.convert(given, "the command line")
        else:
            values[attr] = param.resolve_default(
                ParameterContext(flow_cls.__name__, username, param.name)
            )
    return values
