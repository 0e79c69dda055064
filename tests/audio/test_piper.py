"""The piper engine with the real joe voice: repeatable samples, model loading, rates and its profile errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from pelvicvoice.audio.engines.piper import packaged_model
from pelvicvoice.build import build_sessions, make_toolchain
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.definitions.voices import builtin_voice_dir
from pelvicvoice.errors import DefinitionError, SpeechError
from pelvicvoice.model import SAMPLE_RATE

from conftest import run_cli

JOE = "en_US-joe-medium"


def write_profile(folder, **keys):
    """Write an English piper profile beside copies of the built-in profiles of the other languages."""
    folder.mkdir(parents=True, exist_ok=True)
    for builtin in builtin_voice_dir().glob("*.yaml"):
        if not builtin.name.startswith("en."):
            shutil.copyfile(builtin, folder / builtin.name)
    lines = ["language: en", "engine: piper", *(f"{key}: {value}" for key, value in keys.items())]
    (folder / "en.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def copy_joe(folder, **config_changes):
    """Copy joe's model to folder, changing keys of its config's `audio` section."""
    folder.mkdir(parents=True, exist_ok=True)
    model = packaged_model(JOE)
    shutil.copyfile(model, folder / "voice.onnx")
    config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
    config["audio"].update(config_changes)
    (folder / "voice.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return folder / "voice.onnx"


@pytest.mark.slow
def test_two_builds_with_empty_caches_are_byte_identical_with_one_or_two_workers(tmp_path):
    library = Library.load()
    requests = make_requests(library, ("the-knack",), ("en",), ())
    built = []
    for jobs in (1, 2):
        with make_toolchain(library, tmp_path / f"cache-{jobs}", jobs=jobs) as toolchain:
            report = build_sessions(requests, toolchain, tmp_path / f"out-{jobs}")
        assert report.synthesized > 20 and report.cached == 0
        built.append(report.written[0].read_bytes())
    assert built[0] == built[1]


@pytest.mark.slow
def test_a_warm_build_imports_neither_piper_nor_onnxruntime(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert run_cli("build", "quick-squeezes", "-o", str(out), cache=cache).returncode == 0
    warm = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pelvicvoice", "build", "quick-squeezes", "-o", str(tmp_path / "w")],
        env={**os.environ, "PELVICVOICE_CACHE": str(cache)},
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in warm.stderr.splitlines() if "|" in line}
    assert "pelvicvoice.audio.engines.piper" in imported, "the import log is what it seems"
    assert not {"piper", "onnxruntime", "soxr", "numpy"} & imported
    assert (tmp_path / "w/en/quick-squeezes.mp3").read_bytes() == (out / "en/quick-squeezes.mp3").read_bytes()


@pytest.mark.slow
def test_a_voice_of_another_rate_is_resampled_to_the_sessions(tmp_path):
    """joe's model declared at 16 kHz: soxr stretches its 22.05 kHz output by 22050/16000."""
    copy_joe(tmp_path / "slow", sample_rate=16000)
    library = Library.load()
    slowed = Library.load(voice_dir=write_profile(tmp_path / "slow", model="voice.onnx"))
    lengths = []
    for which, lib in (("joe", library), ("slowed", slowed)):
        requests = make_requests(lib, ("quick-squeezes",), ("en",), ())
        with make_toolchain(lib, tmp_path / f"cache-{which}", jobs=1) as toolchain:
            session = toolchain.clips.clips_for([(_script(lib, requests), lib.voices["en"])]).sessions[0]
        lengths.append(sum(len(clip) for clip in session.values()))
    assert lengths[1] / lengths[0] == pytest.approx(SAMPLE_RATE / 16000, rel=0.02)


def _script(library, requests):
    from pelvicvoice.build import session_script

    return session_script(requests[0], library)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"model": "missing.onnx"}, "model: model 'missing.onnx' is neither an installed voice"),
        ({"model": JOE, "speed": 3}, "speed: speed must be from 0.5 to 2 (1 is the voice's own)"),
        ({"model": JOE, "volume": 0}, "volume: volume must be above 0 and at most 1.0"),
        ({"model": JOE, "rate": 150}, "unknown key 'rate' in a voice profile; known keys: language, engine, model"),
        ({}, "model"),
    ],
)
def test_a_bad_piper_profile_names_its_key(tmp_path, keys, message):
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=write_profile(tmp_path / "voices", **keys))
    assert message in str(raised.value)
    assert "en.yaml:" in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sample_rate": 1000}, "voice.onnx.json: sample rate 1000 is not 8000-48000 Hz"),
        ({"sample_rate": "fast"}, "cannot read the voice config"),
    ],
)
def test_a_bad_voice_config_is_a_clear_error(tmp_path, changes, message):
    copy_joe(tmp_path / "voices", **changes)
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=write_profile(tmp_path / "voices", model="voice.onnx"))
    assert message in str(raised.value)


def test_a_voice_that_would_download_at_run_time_is_refused(tmp_path):
    model = copy_joe(tmp_path / "voices")
    config = json.loads(model.with_name("voice.onnx.json").read_text(encoding="utf-8"))
    model.with_name("voice.onnx.json").write_text(json.dumps({**config, "phoneme_type": "pinyin"}), encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=write_profile(tmp_path / "voices", model="voice.onnx"))
    assert "piper voices of phoneme type 'pinyin' download helpers at run time" in str(raised.value)


@pytest.mark.parametrize("rate", ["120", "0"])
def test_rate_is_not_a_piper_option(tmp_path, rate):
    result = run_cli("show", "kegel-basics", "--rate", rate)
    assert result.returncode == 1
    assert result.stderr == f"error: --rate {rate}: a piper voice has no --rate; set `speed` in its voice profile\n"


@pytest.mark.slow
def test_a_corrupt_model_fails_its_phrases_with_a_clear_error(tmp_path):
    model = copy_joe(tmp_path / "voices")
    model.write_bytes(b"not an onnx model" * 100)
    library = Library.load(voice_dir=write_profile(tmp_path / "voices", model="voice.onnx"))
    requests = make_requests(library, ("quick-squeezes",), ("en",), ())
    with make_toolchain(library, tmp_path / "cache", jobs=1) as toolchain, pytest.raises(SpeechError) as raised:
        build_sessions(requests, toolchain, tmp_path / "out")
    assert f"cannot load the piper model {model}" in str(raised.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.mp3"))
