"""A self-test chooses a level of another program: its thresholds are that program's levels, and a plan offers each."""

from __future__ import annotations

from pelvicvoice.definitions.plans import plan_requests

from conftest import run_cli, write

SELF_TEST = """\
id: my-test
chooses_level_of: intensive
title: {{en: My test}}
description: {{en: A test.}}
source: test
parameters:
  gentle_hold: {gentle}
  standard_hold: 7
  standard_quick: 3
  intensive_hold: 8
phrases: {{en: {{result: "Held {{gentle_hold}} seconds? Start gently."}}}}
sections:
  - title: {{en: Test}}
    steps:
      - hold: 10
        say: squeeze_start
        count: up
      - say: result
"""

PLAN = """\
id: my-plan
title: {{en: My plan}}
description: {{en: A plan.}}
source: test
phases:
  - weeks: 1+
    title: {{en: Strength}}
    sessions:
{test_entry}      - program: intensive
        level_from: {test}
        times: 1
        per: day
"""


def _test_entry(test_path) -> str:
    return f"      - program: {test_path}\n        times: 1\n        per: week\n"


def test_a_threshold_that_differs_from_its_level_is_named_at_its_line(tmp_path):
    path = write(tmp_path / "my-test.yaml", SELF_TEST.format(gentle=5).replace("  intensive_hold: 8\n", ""))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {path}:1:1: no threshold for level 'intensive' of 'intensive'; add a parameter such as intensive_reps",
        f"error: {path}:7:3: gentle_hold is 5, but level 'gentle' of 'intensive' has hold 6; make them equal",
    ]


def test_a_plan_offers_every_level_the_self_test_can_choose(library, tmp_path):
    test_path = write(tmp_path / "my-test.yaml", SELF_TEST.format(gentle=6))
    plan_path = write(tmp_path / "my-plan.yaml", PLAN.format(test_entry=_test_entry(test_path), test=test_path))
    plan = library.find_plan(str(plan_path))
    (phase_requests,) = plan_requests(plan, library, ("en",))
    assert [request.level for request in phase_requests[1]] == ["gentle", "standard", "intensive"]
    result = run_cli("show-plan", str(plan_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()[4:]
    assert lines[0].split()[:2] == ["1x", "a"] and lines[0].endswith("My test")
    assert lines[1].startswith("  1x a day") and lines[1].endswith(
        "Intensive pelvic floor training (Gentle)  (one of these, chosen by “My test”)"
    )
    assert [line.split("  ")[-1].strip() for line in lines[2:]] == [
        "Intensive pelvic floor training (Standard)",
        "Intensive pelvic floor training (Intensive)",
    ]


def test_level_from_must_name_a_self_test_of_the_same_phase(tmp_path):
    test_path = write(tmp_path / "my-test.yaml", SELF_TEST.format(gentle=6))
    missing = write(tmp_path / "missing.yaml", PLAN.format(test_entry="", test=test_path))
    result = run_cli("show-plan", str(missing))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {missing}:10:9: phases[0].sessions[0].level_from: '{test_path}' is not a session of this phase; "
        "add it, so the listener takes the test"
    ]
    wrong = write(
        tmp_path / "wrong.yaml",
        PLAN.format(test_entry=_test_entry("kegel-basics"), test="kegel-basics"),
    )
    result = run_cli("show-plan", str(wrong))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {wrong}:12:9: 'kegel-basics' does not choose a level of 'intensive'; name a self-test that does"
    ]
