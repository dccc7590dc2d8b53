"""The client classes, gathered, and registered by depth for parent/child navigation."""

from __future__ import annotations

from stepwell.client._artifact import DataArtifact
from stepwell.client._base import CLASSES
from stepwell.client._flow import Flow, Metaflow
from stepwell.client._run import Run
from stepwell.client._step import Step
from stepwell.client._task import Metadata, Task, TaskArtifacts, TaskData

CLASSES.update({1: Flow, 2: Run, 3: Step, 4: Task, 5: DataArtifact})

__all__ = [
    "DataArtifact",
    "Flow",
    "Metadata",
    "Metaflow",
    "Run",
    "Step",
    "Task",
    "TaskArtifacts",
    "TaskData",
]
