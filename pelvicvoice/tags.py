"""ID3 tags and chapters: built as plain data, written by mutagen at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TIT2, TLAN, TPE1, CTOCFlags

from pelvicvoice import __version__
from pelvicvoice.model import CueScript

ARTIST = "pelvicvoice"
ALBUM = "pelvicvoice sessions"
# ID3 wants ISO 639-2 codes.
_ISO_639_2 = {"en": "eng", "nl": "nld", "nb": "nob", "nn": "nno", "no": "nor", "zh": "zho", "ko": "kor"}


@dataclass(frozen=True)
class ChapterTag:
    """One ID3 chapter: id, title and millisecond span."""

    element_id: str
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class SessionTags:
    """Everything written into a session's ID3v2.3 tag."""

    title: str
    album: str
    artist: str
    language: str
    comment: str
    chapters: tuple[ChapterTag, ...]


def session_tags(script: CueScript) -> SessionTags:
    """Build the tags of a session from its cue script."""
    rate = script.sample_rate
    chapters = tuple(
        ChapterTag(f"chp{index}", chapter.title, round(chapter.start * 1000 / rate), round(chapter.end * 1000 / rate))
        for index, chapter in enumerate(script.chapters)
    )
    settings = ", ".join(f"{name}={value}" for name, value in sorted(script.parameters.items()))
    comment = f"Source: {script.source}" + (f" Settings: {settings}." if settings else "")
    return SessionTags(
        title=script.title,
        album=ALBUM,
        artist=ARTIST,
        language=_ISO_639_2.get(script.language, script.language),
        comment=comment,
        chapters=chapters,
    )


def write_tags(path: Path, tags: SessionTags) -> None:
    """Write tags and chapters (CTOC + CHAP) to an MP3 as ID3v2.3."""
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TLAN(encoding=3, text=tags.language))
    id3.add(
        COMM(encoding=3, lang=tags.language[:3], desc="", text=f"{tags.comment} Made with pelvicvoice {__version__}.")
    )
    id3.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=[chapter.element_id for chapter in tags.chapters],
            sub_frames=[TIT2(encoding=3, text=tags.title)],
        )
    )
    for chapter in tags.chapters:
        id3.add(
            CHAP(
                element_id=chapter.element_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                sub_frames=[TIT2(encoding=3, text=chapter.title)],
            )
        )
    id3.save(str(path), v2_version=3)
