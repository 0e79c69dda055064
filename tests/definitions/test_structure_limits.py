"""Hostile YAML structure: depth, width, keys, size and aliases each end in the one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelvicvoice.definitions.program import read_program
from pelvicvoice.definitions.source import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, load_document, parse_document
from pelvicvoice.errors import MAX_PROBLEMS_SHOWN, DefinitionError, Location, PelvicvoiceError, Problem, error_lines

from conftest import run_cli

HEAD = "id: hostile\ntitle: {en: Hostile}\ndescription: {en: A hostile file.}\nsource: test\nsections: "


def nested(style: str, depth: int, leaf: str) -> str:
    """Return YAML text of `depth` collections inside each other around leaf, without recursion."""
    if style == "flow list":
        return "[" * depth + leaf + "]" * depth
    if style == "flow map":
        return "{k: " * depth + leaf + "}" * depth
    if style == "compact block list":  # "- - - x": block sequences on one line
        return "\n  " + "- " * depth + leaf
    if style == "block map":
        return "".join("\n" + "  " * (level + 1) + "k:" for level in range(depth)) + " " + leaf
    # mixed: a list in a map in a list ...
    opening = "".join("[" if level % 2 == 0 else "{k: " for level in range(depth))
    return opening + leaf + "".join("]" if level % 2 == 0 else "}" for level in reversed(range(depth)))


STYLES = ["flow list", "flow map", "compact block list", "block map", "mixed"]


def leaf(kind: str, size: int) -> str:
    if kind == "wide list":
        return "[" + ", ".join(["1"] * size) + "]"
    if kind == "wide map":
        return "{" + ", ".join(f"k{index}: 1" for index in range(size)) + "}"
    if kind == "long string":
        return "'" + "a" * size + "'"
    return "x"


def assert_definition_error(text: str, name: str = "hostile.yaml") -> DefinitionError:
    """Parse and read text as a program: it must end in problems located in the file, never a crash."""
    with pytest.raises(DefinitionError) as raised:
        program, problems = read_program(parse_document(text, name))
        if problems:
            raise DefinitionError(problems)
    assert raised.value.problems
    assert all(problem.location.file == name for problem in raised.value.problems)
    return raised.value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    style=st.sampled_from(STYLES),
    depth=st.integers(0, 3000),
    kind=st.sampled_from(["scalar", "wide list", "wide map", "long string"]),
    size=st.integers(0, 120_000),
)
def test_any_structure_ends_in_located_problems(style, depth, kind, size):
    if style == "block map":
        depth = min(depth, 600)  # its indentation grows with the square of the depth
    error = assert_definition_error(HEAD + nested(style, depth, leaf(kind, size)) + "\n")
    messages = [problem.message for problem in error.problems]
    # The root mapping is level 1 and `sections` opens level 2.
    if depth + 1 + (kind in ("wide list", "wide map")) > MAX_DEPTH:
        assert any(f"nested more than {MAX_DEPTH} levels deep" in message for message in messages), messages


DEEP = [(style, depth) for style in STYLES for depth in (MAX_DEPTH, 999, 1001, 100_000)]


@pytest.mark.parametrize(("style", "depth"), [(s, d) for s, d in DEEP if s != "block map" or d < 100_000])
def test_nesting_deeper_than_the_limit_is_one_problem_at_its_line(style, depth):
    error = assert_definition_error(HEAD + nested(style, depth, "x") + "\n")
    deep = [problem for problem in error.problems if "levels deep" in problem.message]
    assert len(deep) == 1
    expected = f"lists and mappings nested more than {MAX_DEPTH} levels deep; no definition needs that many"
    assert deep[0].message == expected
    assert deep[0].location.line >= 5 and deep[0].location.column >= 1


def test_nesting_at_the_limit_is_read():
    # The root mapping, then MAX_DEPTH - 1 lists: every value is kept.
    document = parse_document("a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n", "ok.yaml")
    value = document.data["a"]
    for _ in range(MAX_DEPTH - 2):
        value = value[0]
    assert value == [1]


@pytest.mark.parametrize(
    "text",
    [
        "a: [" + ", ".join(["1"] * (MAX_NODES + 1)) + "]\n",
        "".join(f"k{index}: 1\n" for index in range(MAX_NODES // 2 + 1)),
    ],
    ids=["wide list", "many keys"],
)
def test_too_many_values_or_keys_is_one_problem(text):
    with pytest.raises(DefinitionError) as raised:
        parse_document(text, "wide.yaml")
    (problem,) = raised.value.problems
    assert f"more than {MAX_NODES:,} keys and values" in problem.message


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("id: x\n" + "#" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=f"larger than the {MAX_FILE_BYTES:,} bytes a definition may have"):
        load_document(path, "big.yaml")


def test_a_device_without_end_is_read_no_further_than_the_limit():
    with pytest.raises(DefinitionError, match="larger than the"):
        load_document(Path("/dev/zero"), "zero.yaml")


def test_many_problems_are_summed_up_after_the_first_ones():
    problems = [Problem(Location("f.yaml", line), f"problem {line}") for line in range(1, 1001)]
    lines = error_lines(PelvicvoiceError(problems))
    assert len(lines) == MAX_PROBLEMS_SHOWN + 1
    assert lines[0] == "error: f.yaml:1: problem 1"
    assert lines[-1] == f"error: f.yaml: {1000 - MAX_PROBLEMS_SHOWN} more problems not shown; fix these first"


HOSTILE_FILES = {
    "deep flow": HEAD + nested("flow list", 200_000, "x") + "\n",
    "deep block": HEAD + nested("compact block list", 5000, "x") + "\n",
    "deep aliases": "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300)),
    "alias bomb": "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 12)),
    "many unknown keys": HEAD + "[]\n" + "".join(f"key{index}: 1\n" for index in range(20_000)),
    "huge key": HEAD + "[]\n" + "k" * 1_500_000 + ": 1\n",
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_files_end_in_error_lines_and_write_nothing(tmp_path, name):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE_FILES[name], encoding="utf-8")
    out = tmp_path / "out"
    for command in (["validate", str(path)], ["build", str(path), "-o", str(out)]):
        result = run_cli(*command, cache=tmp_path / "cache")
        lines = result.stderr.splitlines()
        assert result.returncode == 1, result.stderr[-2000:]
        assert 1 <= len(lines) <= MAX_PROBLEMS_SHOWN + 1
        assert all(line.startswith(f"error: {path}") for line in lines), result.stderr[-2000:]
    assert not out.exists()
