"""Is the speech understood? Each distinct phrase of built sessions is cut out of the decoded MP3,
transcribed by an offline recognizer and scored by its character error rate (CER).

Numbers are written out on both sides before scoring (the voice reads "3" as a word, and the
recognizer may write either), and the CER is capped at 1, so that one phrase heard as a
long loop of nonsense does not outweigh the rest.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.build import Toolchain, expand_sessions, write_sessions
from pelvicvoice.definitions.voices import VoiceChoice
from pelvicvoice.listening.recognizer import RECOGNIZER_RATE
from pelvicvoice.model import SAMPLE_RATE, SessionRequest
from pelvicvoice.mp3.ffmpeg import decode_to_samples, resample

if TYPE_CHECKING:
    import numpy as np

    from pelvicvoice.listening.recognizer import Recognizer

# num2words' names for our languages; Chinese numbers are written out by cn2an instead.
_NUM2WORDS = {"en": "en", "nl": "nl", "nb": "no", "nn": "no", "ko": "ko"}
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Heard:
    """One phrase as it was meant and as the recognizer heard it."""

    language: str
    program: str
    text: str
    heard: str
    error_rate: float


def spoken_form(text: str, language: str) -> str:
    """Return text as it sounds, for comparing: numbers in words, letters only, lower case."""
    text = unicodedata.normalize("NFKC", text)
    if language == "zh":
        import cn2an

        text = _NUMBER.sub(lambda match: cn2an.an2cn(match.group()), text)
    elif language in _NUM2WORDS:
        from num2words import num2words

        text = _NUMBER.sub(lambda match: num2words(int(match.group()), lang=_NUM2WORDS[language]), text)
    return "".join(character for character in text.lower() if character.isalnum())


def character_error_rate(text: str, heard: str, language: str) -> float:
    """Return the edit distance between what was said and what was heard, per character, at most 1."""
    import jiwer

    reference, hypothesis = spoken_form(text, language), spoken_form(heard, language)
    if not reference:
        return 0.0
    return min(1.0, jiwer.cer(reference, hypothesis or " "))


def listen(
    requests: list[SessionRequest],
    toolchain: Toolchain,
    recognizer: Recognizer,
    on_heard: Callable[[Heard], None] = lambda heard: None,
    choice: VoiceChoice = VoiceChoice(),
) -> list[Heard]:
    """Build the requested sessions, then transcribe and score each distinct phrase once per language."""
    heard: list[Heard] = []
    seen: set[tuple[str, str]] = set()
    with tempfile.TemporaryDirectory(prefix="pelvicvoice-listen-") as folder:
        sessions = expand_sessions(requests, toolchain.library, Path(folder), choice)
        write_sessions(sessions, toolchain)
        for session in sessions:
            script = session.script
            cues = [cue for cue in script.cues if cue.kind != "count" and (script.language, cue.text) not in seen]
            if not cues:
                continue  # every phrase was heard in an earlier session: no need to decode this one
            samples = decode_to_samples(session.target)
            for text, cut in _phrase_cuts(cues, samples):
                if (script.language, text) in seen:
                    continue
                seen.add((script.language, text))
                transcript = recognizer.transcribe(resample(cut, SAMPLE_RATE, RECOGNIZER_RATE), script.language)
                result = Heard(
                    script.language,
                    script.program_id,
                    text,
                    transcript,
                    character_error_rate(text, transcript, script.language),
                )
                on_heard(result)
                heard.append(result)
    return heard


def mean_error_rates(heard: Iterable[Heard]) -> dict[str, tuple[float, int]]:
    """Return each language's mean CER and its number of phrases, in the order first heard."""
    rates: dict[str, list[float]] = {}
    for result in heard:
        rates.setdefault(result.language, []).append(result.error_rate)
    return {language: (sum(values) / len(values), len(values)) for language, values in rates.items()}


def _phrase_cuts(cues, samples: np.ndarray):
    """Yield each spoken phrase with its slot of the session (counted numbers are left out)."""
    for cue in cues:
        if cue.kind != "count":
            yield cue.text, samples[cue.start : cue.end]
