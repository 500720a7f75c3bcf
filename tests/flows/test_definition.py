"""Flows are checked when they are defined, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.flows import Flow, FlowDefinitionError


def test_arguments_name_the_inputs() -> None:
    flow = Flow("f", params={"k": 3})

    @flow.step
    def a() -> list[int]:
        return [1, 2]

    @flow.step(foreach="a", retries=2, cpus=2)
    def b(item: int, k: int, ctx: object) -> int:
        return item * k

    @flow.step
    def c(b: list[int], a: list[int]) -> int:
        return sum(b)

    assert flow.steps["b"].inputs == () and flow.steps["b"].params == ("k",)
    assert flow.steps["b"].upstream == ("a",) and flow.steps["b"].wants_context
    assert flow.steps["c"].inputs == ("b", "a")
    assert flow.steps["b"].resources.cpus == 2 and flow.steps["b"].retries == 2


def test_missing_dependency_and_cycles_are_refused_at_definition() -> None:
    flow = Flow("f")

    @flow.step
    def a() -> int:
        return 1

    with pytest.raises(FlowDefinitionError, match="'later', which is no step defined above"):
        @flow.step
        def b(later: int) -> int:
            return later

    with pytest.raises(FlowDefinitionError, match="its own value as input, a cycle"):
        @flow.step
        def c(c: int) -> int:
            return c

    with pytest.raises(FlowDefinitionError, match="not a step defined above"):
        @flow.step(foreach="nothing")
        def d(item: int) -> int:
            return item

    with pytest.raises(FlowDefinitionError, match="not a foreach step"):
        @flow.step
        def e(item: int) -> int:
            return item

    with pytest.raises(FlowDefinitionError, match="defined twice"):
        @flow.step
        def a() -> int:
            return 2

    assert list(flow.steps) == ["a"]


def test_params_are_bound_and_coerced() -> None:
    flow = Flow("f", params={"k": 3, "rate": 0.5, "on": False, "name": "x"})
    assert flow.bind({"k": "7", "rate": "0.25", "on": "yes"}) == {
        "k": 7, "rate": 0.25, "on": True, "name": "x"}
    with pytest.raises(InvalidInput, match="no parameter"):
        flow.bind({"nope": 1})
    with pytest.raises(InvalidInput, match="of type int"):
        flow.bind({"k": "seven"})


def test_bad_names_and_options() -> None:
    with pytest.raises(FlowDefinitionError):
        Flow("has space")
    flow = Flow("f")
    with pytest.raises(FlowDefinitionError, match="negative"):
        flow.step(retries=-1)(lambda: 1)
    with pytest.raises(InvalidInput):
        flow.step(reads=["not-a-uri"])(lambda: 1)
    with pytest.raises(FlowDefinitionError, match="no steps"):
        flow.validate()


def test_a_step_depending_on_code_changes_hash_when_that_code_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "modelcode"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "net.py").write_text("WIDTH = 8\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def declare() -> Flow:
        flow = Flow("uses-model-code")

        @flow.step(code=["modelcode"])
        def train() -> int:
            return 1

        @flow.step
        def report(train: int) -> int:
            return train

        return flow

    before = declare()
    (package / "net.py").write_text("WIDTH = 16\n")
    after = declare()
    assert before.steps["train"].code_hash != after.steps["train"].code_hash
    assert before.steps["report"].code_hash == after.steps["report"].code_hash
    with pytest.raises(FlowDefinitionError, match="not importable"):
        Flow("broken").step(code=["no_such_module_here"])(lambda: 1)
