"""The kokoro engine with the real model: its join, repeatable Mandarin, warm builds, and its profile errors."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from pelvicvoice.audio.engines.kokoro import joined_model, voice_data
from pelvicvoice.build import build_sessions, make_toolchain
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.definitions.voices import builtin_voice_dir
from pelvicvoice.errors import DefinitionError
from pelvicvoice.mp3.ffmpeg import decode_to_samples

# Few phrases, so that a cold build speaks little: Kokoro takes about real time on one core.
SHORT_PROGRAM = """\
id: kokoro-short
title: {zh: 短练习}
description: {zh: 三句话和一次保持。}
source: test
sections:
  - title: {zh: 练习}
    steps:
      - say: welcome
      - hold: 3
        say: squeeze_start
      - rest: 2
        say: relax
      - say: well_done
phrases:
  zh:
    welcome: 欢迎，我们做一次很短的练习。
"""


def write_profiles(folder, zh_profile):
    folder.mkdir(parents=True, exist_ok=True)
    for builtin in builtin_voice_dir().glob("*.yaml"):
        if not builtin.name.startswith("zh."):
            shutil.copyfile(builtin, folder / builtin.name)
    (folder / "zh.yaml").write_text(zh_profile, encoding="utf-8")
    return folder


def test_the_model_is_joined_from_its_four_wheels_and_checked(tmp_path):
    model = joined_model(tmp_path)
    expected = voice_data("model.sha256").read_text(encoding="utf-8").strip()
    digest = hashlib.sha256()
    with model.open("rb") as joined:
        for block in iter(lambda: joined.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == expected
    assert model.stat().st_size > 80_000_000
    assert joined_model(tmp_path) == model and [path.name for path in tmp_path.iterdir()] == [model.name]


@pytest.mark.parametrize("damage", ["truncated", "one byte changed"])
def test_a_model_damaged_in_the_cache_is_joined_again(tmp_path, damage):
    model = joined_model(tmp_path)
    expected = model.read_bytes()
    with model.open("r+b") as file:
        if damage == "truncated":
            file.truncate(len(expected) // 2)
        else:
            file.seek(len(expected) // 3)
            file.write(bytes([expected[len(expected) // 3] ^ 0xFF]))
    assert joined_model(tmp_path) == model
    assert model.read_bytes() == expected


@pytest.mark.slow
def test_mandarin_cold_builds_are_byte_identical_and_a_warm_build_loads_no_model(tmp_path):
    program = tmp_path / "short.yaml"
    program.write_text(SHORT_PROGRAM, encoding="utf-8")
    library = Library.load()
    requests = make_requests(library, (str(program),), ("zh",), ())
    built = []
    for jobs in (1, 2):
        with make_toolchain(library, tmp_path / f"cache-{jobs}", jobs=jobs) as toolchain:
            report = build_sessions(requests, toolchain, tmp_path / f"out-{jobs}")
        assert report.synthesized == 4 and report.cached == 0
        built.append(report.written[0])
    assert built[0].read_bytes() == built[1].read_bytes()
    speech = decode_to_samples(built[0])
    assert abs(speech.astype(float)).max() > 3000, "Mandarin was spoken, not silence"
    warm = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pelvicvoice", "build", str(program), "--lang", "zh"]
        + ["-o", str(tmp_path / "warm")],
        env={**os.environ, "PELVICVOICE_CACHE": str(tmp_path / "cache-1")},
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in warm.stderr.splitlines() if "|" in line}
    assert "pelvicvoice.audio.engines.kokoro" in imported, "the import log is what it seems"
    assert not {"kokoro_onnx", "onnxruntime", "misaki", "jieba", "soxr", "numpy"} & imported
    assert (tmp_path / "warm/zh/kokoro-short.mp3").read_bytes() == built[0].read_bytes()


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("voice: af_heart", "voice: voice 'af_heart' is not a Kokoro voice; use one of jf_alpha, "),
        ("voice: jf_alpha\nspeed: 0.1", "speed: speed must be from 0.5 to 2 (1 is the voice's own)"),
        ("voice: jf_alpha\nrate: 150", "unknown key 'rate' in a voice profile; known keys: language, engine, voice"),
    ],
)
def test_a_bad_kokoro_profile_names_its_key(tmp_path, profile, message):
    folder = write_profiles(tmp_path / "voices", f"language: zh\nengine: kokoro\n{profile}\n")
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=folder)
    assert message in str(raised.value) and "zh.yaml:" in str(raised.value)


def test_kokoro_refuses_a_language_it_has_no_front_end_for(tmp_path):
    folder = write_profiles(tmp_path / "voices", (builtin_voice_dir() / "zh.yaml").read_text(encoding="utf-8"))
    (folder / "en.kokoro.yaml").write_text("language: en\nengine: kokoro\nvoice: jf_alpha\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=folder)
    assert "en.kokoro.yaml:1:1: language: kokoro has no front end for 'en'; it speaks zh, ko, nl, nb, nn" in str(
        raised.value
    )
