"""Is the speech understood: an offline recognizer (whisper-base) hears each phrase of a built session."""

from __future__ import annotations

import pytest

from pelvicvoice.build import make_toolchain
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.listening.intelligibility import character_error_rate, listen, mean_error_rates, spoken_form
from pelvicvoice.listening.recognizer import Recognizer, model_folder

from conftest import run_cli


@pytest.mark.parametrize(
    ("language", "text", "spoken"),
    [
        ("en", "Number 1 of 12.", "numberoneoftwelve"),
        ("nl", "Nummer 3 van 8.", "nummerdrievanacht"),
        ("nb", "Løft 2 av 4!", "løfttoavfire"),
        ("nn", "Runde 1 av 3.", "rundeenavtre"),  # the Norwegian voice reads digits in Bokmål
        ("zh", "第3次，共12次。", "第三次共十二次"),
        ("ko", "6초 동안", "육초동안"),
    ],
)
def test_numbers_are_compared_as_they_are_spoken(language, text, spoken):
    assert spoken_form(text, language) == spoken


def test_error_rate_counts_characters_and_stops_at_one():
    assert character_error_rate("Number 1 of 3.", "number one of three", "en") == 0.0
    assert character_error_rate("And relax.", "And relax", "en") == 0.0
    assert character_error_rate("And relax.", "And relapse", "en") == pytest.approx(3 / 8)
    assert character_error_rate("Lift!", "", "en") == 1.0
    assert character_error_rate("Lift!", "a very long loop of words heard instead", "en") == 1.0


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory):
    return Recognizer(tmp_path_factory.mktemp("asr-cache"))


def test_the_model_is_joined_from_the_wheels_once(tmp_path):
    folder = model_folder(tmp_path)
    assert (folder / "model.bin").stat().st_size == 145_217_532
    assert {path.name for path in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    written = (folder / "model.bin").stat().st_mtime_ns
    assert model_folder(tmp_path) == folder and (folder / "model.bin").stat().st_mtime_ns == written


@pytest.mark.slow
def test_espeak_english_is_understood_and_tones_are_not(library, tone_library, recognizer, tmp_path):
    spoken = {}
    for name, voiced in (("espeak", library), ("tones", tone_library)):
        requests = make_requests(voiced, ("quick-squeezes",), ("en",), ())
        with make_toolchain(voiced, tmp_path / name, jobs=2) as toolchain:
            spoken[name] = listen(requests, toolchain, recognizer)
    texts = {heard.text for heard in spoken["espeak"]}
    assert len(texts) == len(spoken["espeak"]) >= 5  # each distinct phrase once
    ((english, _),) = mean_error_rates(spoken["espeak"]).values()
    assert english < 0.35, [(h.text, h.heard) for h in spoken["espeak"]]
    assert all(heard.error_rate >= 0.9 for heard in spoken["tones"]), [(h.text, h.heard) for h in spoken["tones"]]


@pytest.mark.slow
def test_check_speech_lists_what_is_heard_wrong_and_each_language_mean(tmp_path):
    arguments = ("quick-squeezes", "--lang", "en", "--lang", "nb", "--threshold", "0")
    result = run_cli("check-speech", *arguments, cache=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    summary = [line for line in lines if "mean character error rate" in line]
    assert [line.split(":")[0] for line in summary] == ["en", "nb"]
    listed = [line for line in lines if line.split("  ")[0].replace(".", "").isdigit()]
    heard = [line for line in lines if line.strip().startswith("heard:")]
    assert len(listed) == len(heard) > 10  # --threshold 0 lists every phrase, each with what was heard
    assert all(line.split("  ")[1] in ("en", "nb") for line in listed)
