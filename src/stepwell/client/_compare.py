"""Differences between two runs: parameters by value, end-task artifacts by blob key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import NotFoundError

if TYPE_CHECKING:
    from stepwell.client._run import Run


@dataclass(frozen=True)
class RunComparison:
    """What differs between run ``a`` and run ``b``.

    Parameters are compared by value; artifacts (of each run's end task) by
    blob key, i.e. by content, without loading them.

    Attributes:
        a, b: the pathspecs compared.
        parameters_same: names of parameters with equal values.
        parameters_different: name -> (value in a, value in b).
        parameters_only_in_a, parameters_only_in_b: name -> value.
        artifacts_same, artifacts_different: artifact names.
        artifacts_only_in_a, artifacts_only_in_b: artifact names.
    """

    a: str
    b: str
    parameters_same: list[str] = field(default_factory=list)
    parameters_different: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    parameters_only_in_a: dict[str, Any] = field(default_factory=dict)
    parameters_only_in_b: dict[str, Any] = field(default_factory=dict)
    artifacts_same: list[str] = field(default_factory=list)
    artifacts_different: list[str] = field(default_factory=list)
    artifacts_only_in_a: list[str] = field(default_factory=list)
    artifacts_only_in_b: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether nothing differs."""
        return not (
            self.parameters_different or self.parameters_only_in_a or self.parameters_only_in_b
            or self.artifacts_different or self.artifacts_only_in_a or self.artifacts_only_in_b
        )  # fmt: skip


def compare_runs(a: Run, b: Run) -> RunComparison:
    """Compare two runs (of the same flow or not): parameters and end-task artifacts.

    Raises NotFoundError if either run has no end task (it failed before its
    end step): there is no final state to compare.

    Example:
        >>> diff = compare_runs(Run("TrainFlow/7"), Run("TrainFlow/9"))  # doctest: +SKIP
        >>> diff.parameters_different  # doctest: +SKIP
        {'alpha': (0.1, 0.5)}
    """
    params_a, params_b = a.parameters, b.parameters
    keys_a, keys_b = _end_keys(a), _end_keys(b)
    common_params = sorted(params_a.keys() & params_b.keys())
    common_artifacts = sorted(keys_a.keys() & keys_b.keys())
    return RunComparison(
        a=a.pathspec,
        b=b.pathspec,
        parameters_same=[n for n in common_params if params_a[n] == params_b[n]],
        parameters_different={
            n: (params_a[n], params_b[n]) for n in common_params if params_a[n] != params_b[n]
        },
        parameters_only_in_a={n: params_a[n] for n in sorted(params_a.keys() - params_b.keys())},
        parameters_only_in_b={n: params_b[n] for n in sorted(params_b.keys() - params_a.keys())},
        artifacts_same=[n for n in common_artifacts if keys_a[n] == keys_b[n]],
        artifacts_different=[n for n in common_artifacts if keys_a[n] != keys_b[n]],
        artifacts_only_in_a=sorted(keys_a.keys() - keys_b.keys()),
        artifacts_only_in_b=sorted(keys_b.keys() - keys_a.keys()),
    )


def _end_keys(run: Run) -> dict[str, str]:
    from stepwell.flow import IMPLICIT_ARTIFACTS  # the flow layer, only when comparing

    end = run.end_task
    if end is None:
        raise NotFoundError(
            f"Run '{run.pathspec}' has no end task (status: {run.status}), so it has no final "
            "artifacts to compare. Compare tasks of its steps instead.",
            pathspec=run.pathspec,
        )
    return {
        name: record.key
        for name, record in end._artifact_records().items()
        if name not in IMPLICIT_ARTIFACTS
    }
