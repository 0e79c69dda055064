"""Serialize cue scripts: JSON, SRT, WebVTT and a readable text table."""

from __future__ import annotations

import html
import json

from pelvicvoice.model import Cue, CueScript
from pelvicvoice.script.tones import TONE_SAMPLES

_TONE_TEXTS = {"start": "high, the hold starts", "end": "low, the hold ends"}


def seconds(samples: int, sample_rate: int) -> float:
    """Convert samples to seconds, rounded to the millisecond."""
    return round(samples / sample_rate, 3)


def script_to_dict(script: CueScript) -> dict:
    """Build the JSON structure of a cue script (times in seconds)."""
    rate = script.sample_rate
    tones = [
        {"start": seconds(tone.start, rate), "end": seconds(tone.start + TONE_SAMPLES, rate), "kind": tone.kind}
        for tone in script.tones
    ]
    return {
        "program": script.program_id,
        "language": script.language,
        "title": script.title,
        "level": script.level,
        "parameters": script.parameters,
        "duration": seconds(script.total, rate),
        "chapters": [
            {"title": c.title, "start": seconds(c.start, rate), "end": seconds(c.end, rate)} for c in script.chapters
        ],
        "cues": [
            {
                "start": seconds(cue.start, rate),
                "end": seconds(cue.end, rate),
                "text": cue.text,
                "kind": cue.kind,
                "chapter": script.chapters[cue.chapter].title,
            }
            for cue in script.cues
        ],
        # Only with tones: a script without them reads as it always has.
        **({"tones": tones} if tones else {}),
    }


def to_json(script: CueScript) -> str:
    """Serialize a cue script as JSON."""
    return json.dumps(script_to_dict(script), ensure_ascii=False, indent=1) + "\n"


def _timestamp(samples: int, sample_rate: int, separator: str) -> str:
    millis = round(samples * 1000 / sample_rate)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(script: CueScript) -> str:
    """Serialize a cue script as SubRip subtitles."""
    blocks = []
    for number, cue in enumerate(script.cues, 1):
        start = _timestamp(cue.start, script.sample_rate, ",")
        end = _timestamp(cue.end, script.sample_rate, ",")
        blocks.append(f"{number}\n{start} --> {end}\n{_one_line(cue.text)}\n")
    return "\n".join(blocks)


def to_vtt(script: CueScript) -> str:
    """Serialize a cue script as WebVTT."""
    blocks = ["WEBVTT\n"]
    for cue in script.cues:
        start = _timestamp(cue.start, script.sample_rate, ".")
        end = _timestamp(cue.end, script.sample_rate, ".")
        # WebVTT cue text is markup: &, < and > are written as entities, which also keeps "-->" out.
        blocks.append(f"{start} --> {end}\n{html.escape(_one_line(cue.text), quote=False)}\n")
    return "\n".join(blocks)


def _one_line(text: str) -> str:
    """Join a cue's text into one line: a blank line would end the subtitle cue early."""
    return " ".join(text.split())


def to_text(script: CueScript) -> str:
    """Render a cue script as a table a person can read, with a line for each tone."""
    lines = [f"{script.title} [{script.program_id}, {script.language}] {format_duration(script.duration)}"]
    chapter = -1
    for sound in script.sounds:
        start = _timestamp(sound.start, script.sample_rate, ".")[3:]
        if not isinstance(sound, Cue):
            lines.append(f"{start}  {'tone':<7} {_TONE_TEXTS[sound.kind]}")
            continue
        if sound.chapter != chapter:
            chapter = sound.chapter
            lines.append(f"== {script.chapters[chapter].title}")
        lines.append(f"{start}  {sound.kind:<7} {sound.text}")
    return "\n".join(lines) + "\n"


def format_duration(seconds_: float) -> str:
    """Write a duration as M:SS or H:MM:SS."""
    whole = round(seconds_)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


FORMATTERS = {"text": to_text, "json": to_json, "srt": to_srt, "vtt": to_vtt}


def chapters_json(script: CueScript) -> str:
    """Serialize the chapters in the Podcasting 2.0 JSON chapters format (version 1.2.0)."""
    chapters = [
        {"startTime": seconds(chapter.start, script.sample_rate), "title": chapter.title} for chapter in script.chapters
    ]
    return json.dumps({"version": "1.2.0", "chapters": chapters}, ensure_ascii=False, indent=1) + "\n"


def transcript_json(script: CueScript) -> str:
    """Serialize the cues in the Podcasting 2.0 JSON transcript format (version 1.0.0)."""
    rate = script.sample_rate
    segments = [
        {"startTime": seconds(cue.start, rate), "endTime": seconds(cue.end, rate), "body": cue.text}
        for cue in script.cues
    ]
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1) + "\n"
