"""Bad definitions: each file in tests/bad/ says, in `# expect:` lines, what must be reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli, write

BAD = Path(__file__).resolve().parent.parent / "bad"
BAD_FILES = sorted(BAD.glob("*.yaml"))


def expectations(path: Path) -> list[str]:
    """Return the `LINE:COL: message` lines a bad file expects, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", BAD_FILES, ids=[path.stem for path in BAD_FILES])
def test_bad_definition_reports_every_problem_with_its_place(path, tmp_path):
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' line"
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(expected), result.stderr
    for line, wanted in zip(sorted(lines), sorted(f"error: {path}:{expect}" for expect in expected), strict=True):
        assert line.startswith(wanted), f"\n got: {line}\nwant: {wanted}"


@pytest.mark.parametrize("path", BAD_FILES, ids=[path.stem for path in BAD_FILES])
def test_build_of_a_bad_definition_writes_nothing(path, tmp_path):
    result = run_cli("build", str(path), "-o", str(tmp_path / "out"), cache=tmp_path / "cache")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}:")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "cache").exists()


def test_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: latin\ntitle: {en: Caf\u00e9}\n".encode("latin-1"))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {path}:2:16: file is not valid UTF-8; save it with UTF-8 encoding"


def test_missing_file_and_unknown_program(library, tmp_path):
    result = run_cli("validate", str(tmp_path / "nowhere.yaml"), "no-such-program")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'nowhere.yaml'}: file not found; check the path",
        "error: no-such-program: no built-in program 'no-such-program' and no such file; "
        f"use one of: {', '.join(library.builtin_ids())}, or a .yaml path",
    ]


def test_set_of_unknown_parameter_or_bad_value(library):
    result = run_cli("show", "kegel-basics", "--set", "hld=8", "--set", "reps=many", "--set", "rest=99")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    source = (library.program_dir / "kegel-basics.yaml").read_text(encoding="utf-8").splitlines()
    parameters = source.index("parameters:")

    def line_of(name):  # where the parameter is defined: each bad value is reported there
        return source.index(f"  {name}:", parameters) + 1

    assert lines == [
        "error: pelvicvoice/programs/kegel-basics.yaml:1:1: --set hld=8: program 'kegel-basics' has no parameter "
        "'hld'; did you mean 'hold'?",
        f"error: pelvicvoice/programs/kegel-basics.yaml:{line_of('reps')}:3: --set reps=many: reps must be a whole "
        "number, not 'many'",
        f"error: pelvicvoice/programs/kegel-basics.yaml:{line_of('rest')}:3: --set rest=99: rest must be between 2 "
        "and 30",
    ]


def test_builtin_programs_are_valid():
    result = run_cli("validate", "kegel-basics", "intensive")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ok: kegel-basics", "ok: intensive"]


def test_valid_user_program_with_nested_repeats(tmp_path):
    path = write(
        tmp_path / "mine.yaml",
        """\
id: mine
title: {en: Mine}
description: {en: A user's own program.}
source: a physiotherapist
parameters:
  rounds: {default: 2, min: 1, max: 5}
  reps: 2
phrases:
  en:
    go: Round {round} of {rounds}, squeeze {rep} of {reps}.
sections:
  - title: {en: Work}
    steps:
      - repeat: rounds
        as: round
        steps:
          - repeat: reps
            as: rep
            steps:
              - say: go
              - hold: 3
        between:
          - pause: 2
""",
    )
    result = run_cli("show", str(path), "--set", "rounds=3")
    assert result.returncode == 0, result.stderr
    spoken = [line.split(None, 2)[2] for line in result.stdout.splitlines()[2:]]
    assert spoken == [f"Round {r} of 3, squeeze {s} of 2." for r in (1, 2, 3) for s in (1, 2)]


def test_more_sections_than_an_mp3_can_list_as_chapters(tmp_path):
    sections = "".join(f"  - title: {{en: Part {index}}}\n    steps: [{{say: go}}]\n" for index in range(256))
    head = "id: long\ntitle: {en: Long}\ndescription: {en: Many parts.}\nsource: test\nphrases: {en: {go: Go.}}\n"
    path = write(tmp_path / "long.yaml", head + "sections:\n" + sections)
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"error: {path}:6:1: sections: 256 sections; an MP3's table of chapters holds at most 255: merge some\n"
    )
