"""Shared fixtures: the real library, one spoken by the tone engine, the real CLI, a real build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_engine import ToneEngine, write_tone_profiles

from pelvicvoice.definitions.library import Library

REPO = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, cache: Path | None = None) -> CliResult:
    """Run `python -m pelvicvoice ARGS` in a subprocess, as a user would."""
    env = dict(os.environ)
    if cache is not None:
        env["PELVICVOICE_CACHE"] = str(cache)
    process = subprocess.run(
        [sys.executable, "-m", "pelvicvoice", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return CliResult(process.returncode, process.stdout, process.stderr)


@pytest.fixture(scope="session")
def library() -> Library:
    return Library.load()


@pytest.fixture(scope="session")
def tone_library(tmp_path_factory) -> Library:
    """The built-in library, every language spoken by the tone engine (fast, no speech engine)."""
    voices = write_tone_profiles(tmp_path_factory.mktemp("tone-voices"))
    return Library.load(voice_dir=voices, engines={ToneEngine.name: ToneEngine()})


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict:
    """Build both built-in programs once with the real CLI; return paths and cue scripts."""
    root = tmp_path_factory.mktemp("built")
    out, cache = root / "out", root / "cache"
    result = run_cli("build", "kegel-basics", "intensive", "-o", str(out), cache=cache)
    assert result.returncode == 0, result.stderr
    scripts = {}
    for program_id in ("kegel-basics", "intensive"):
        shown = run_cli("show", program_id, "--format", "json")
        assert shown.returncode == 0, shown.stderr
        scripts[program_id] = json.loads(shown.stdout)
    return {"out": out, "cache": cache, "stdout": result.stdout, "scripts": scripts}


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 text file and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
