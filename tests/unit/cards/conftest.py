"""Card test fixtures: a store in tmp_path and a fake task of the CardFlow fixture flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stepwell.flow import load_flow_class
from stepwell.graph import build_graph
from stepwell.store import ContentStore, LocalStorage, save_artifacts

FLOW_FILE = Path(__file__).resolve().parents[2] / "flows" / "cards" / "card_flow.py"


@dataclass
class FakeSpec:
    flow_name: str = "CardFlow"
    run_id: str = "7"
    step_name: str = "report"
    task_id: str = "3"


@dataclass
class FakeState:
    inherited: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeNode:
    name: str
    decorators: tuple[Any, ...]


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    with ContentStore(LocalStorage(tmp_path / "store")) as content_store:
        yield content_store


@pytest.fixture
def flow_cls() -> type:
    return load_flow_class(FLOW_FILE)


@pytest.fixture
def graph(flow_cls: type) -> Any:
    return build_graph(flow_cls)


@pytest.fixture
def make_flow(flow_cls: type, store: ContentStore) -> Any:
    """A flow object as the worker has it: inherited refs saved in the store."""

    def make(**inherited: Any) -> Any:
        flow = flow_cls(use_cli=False)
        refs = save_artifacts(store, inherited) if inherited else {}
        flow.__dict__["_sw_state"] = FakeState(dict(refs))
        return flow

    return make


def card_node(*decorators: Any, name: str = "report") -> FakeNode:
    return FakeNode(name, tuple(decorators))


@pytest.fixture(name="FakeSpec")
def fake_spec_class() -> type[FakeSpec]:
    return FakeSpec


@pytest.fixture(name="card_node")
def card_node_factory() -> Any:
    return card_node
