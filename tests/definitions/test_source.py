"""Reading YAML safely, with the place of every value."""

from __future__ import annotations

import pytest

from pelvicvoice.definitions.source import format_path, parse_document
from pelvicvoice.errors import DefinitionError


def test_locations_are_recorded_for_keys_and_items():
    document = parse_document("a: 1\nsteps:\n  - hold: 5\n    say: x\n", "f.yaml")
    assert document.data == {"a": 1, "steps": [{"hold": 5, "say": "x"}]}
    assert str(document.where(("steps", 0, "say"))) == "f.yaml:4:5"
    assert str(document.where(("steps", 0, "missing"))) == "f.yaml:3:5"


def test_alias_bomb_is_refused_not_expanded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    with pytest.raises(DefinitionError, match="has more than 200,000 keys and values"):
        parse_document("\n".join(lines) + "\n", "bomb.yaml")


def test_merge_keys_are_refused():
    with pytest.raises(DefinitionError, match=r"b.yaml:2:\d+: y\.<<: YAML merge keys"):
        parse_document("x: &x {a: 1}\ny: {<<: *x}\n", "b.yaml")


def test_path_formatting():
    assert format_path(("sections", 2, "steps", 0, "hold")) == "sections[2].steps[0].hold"
    assert format_path(()) == "(document)"
