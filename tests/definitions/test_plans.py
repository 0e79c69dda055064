"""Training plans: week by week, in every language, checked against the program library."""

from __future__ import annotations

import re

import pytest

from pelvicvoice.definitions.plans import plan_requests

from conftest import run_cli, write

LANGUAGES = ("en", "nl", "nb", "nn", "zh", "ko")


@pytest.mark.parametrize("plan_id", ["first-six-months", "pregnancy", "after-prostate-surgery"])
def test_show_plan_prints_every_phase_in_every_language(library, plan_id):
    plan = library.find_plan(plan_id)
    assert plan.languages == LANGUAGES
    for language in LANGUAGES:
        result = run_cli("show-plan", plan_id, "--lang", language)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(plan.titles[language])
        for phase in plan.phases:
            assert phase.titles[language] in result.stdout
        sessions = sum(len(requests) for entries in plan_requests(plan, library, (language,)) for requests in entries)
        assert len(re.findall(r"\d+:\d\d  ", result.stdout)) == sessions


def test_plan_follows_nice_and_seed_003(library):
    """At least 8 contractions 3 times a day for 12 weeks; intensive training for 6 months; then maintenance."""
    plan = library.find_plan("first-six-months")
    requests = plan_requests(plan, library, ("en",))
    holds_per_day = {}
    for phase, entries in zip(plan.phases, requests, strict=True):
        daily = 0
        for entry, (request, *_) in zip(phase.entries, entries, strict=True):  # the lowest level a test chooses
            if entry.per == "day":
                values = request.parameters
                daily += entry.times * values.get("reps", 0) * values.get("rounds", 1)
        for week in range(phase.first_week, (phase.last_week or phase.first_week) + 1):
            holds_per_day[week] = daily
    assert all(holds_per_day[week] >= 24 for week in range(1, 13)), holds_per_day
    last = plan.phases[-1]
    assert (last.first_week, last.last_week) == (33, None)
    assert [entry.program for entry in last.entries] == ["maintenance"]
    assert {entry.per for entry in last.entries} == {"week"}
    strength = [phase for phase in plan.phases if any(e.program == "intensive" for e in phase.entries)]
    assert strength[-1].last_week - strength[0].first_week + 1 >= 26  # seed 003 step 10: at least six months


def test_bad_plan_names_each_problem_at_its_line(tmp_path):
    path = write(
        tmp_path / "bad-plan.yaml",
        """\
id: bad-plan
title: {en: Bad}
description: {en: Bad.}
source: test
phases:
  - weeks: 1-2
    title: {en: One}
    sessions:
      - program: no-such-program
        times: 1
        per: day
  - weeks: 4-5
    title: {en: Two}
    sessions:
      - program: intensive
        level: heroic
        set: {hold: 99}
        times: 1
        per: fortnight
""",
    )
    result = run_cli("show-plan", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {path}:12:5: phases[1].weeks: this phase should start in week 3; leave no gaps"
    assert lines[1] == f"error: {path}:19:9: phases[1].sessions[0].per: per must be 'day' or 'week', not 'fortnight'"
    assert len(lines) == 2


@pytest.mark.parametrize(("text", "shape"), [("", "nothing"), ("- a\n- b\n", "a list"), ("plan\n", "text")])
def test_a_plan_file_that_is_not_a_mapping_is_one_line(tmp_path, text, shape):
    path = write(tmp_path / "shapeless.yaml", text)
    result = run_cli("show-plan", str(path))
    assert result.returncode == 1
    assert result.stderr == f"error: {path}:1:1: a plan file must be a mapping (key: value lines), not {shape}\n"


def test_plan_entries_are_checked_against_programs(library, tmp_path):
    path = write(
        tmp_path / "plan.yaml",
        """\
id: plan
title: {en: Plan}
description: {en: A plan.}
source: test
phases:
  - weeks: 1+
    title: {en: One}
    sessions:
      - program: no-such-program
        times: 1
        per: day
      - program: intensive
        level: heroic
        set: {hold: 99}
        times: 1
        per: day
""",
    )
    result = run_cli("show-plan", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {path}:9:9: no built-in program 'no-such-program' and no such file; use one of: "
        f"{', '.join(library.builtin_ids())}, or a .yaml path",
        f"error: {path}:12:9: level heroic: program 'intensive' has no such level; known: gentle, standard, intensive",
        f"error: {path}:12:9: set hold=99: hold must be between 2 and 30",
    ]
