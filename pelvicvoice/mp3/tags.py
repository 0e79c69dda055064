"""ID3 tags and chapters: built as plain data, serialized to ID3v2.3 bytes at the edge.

The layout follows the ID3v2.3 standard and its Chapter Frame Addendum (CTOC, CHAP); the
tests read every field back with mutagen. Writing it here keeps mutagen's import out of the
start-up of every build, and lets the tag be written before the audio instead of inserted.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def id3_tag(tags: SessionTags) -> bytes:
    """Serialize tags and chapters (a CTOC listing every CHAP) as an ID3v2.3 tag."""
    if len(tags.chapters) > 255:
        raise ValueError(f"an ID3 table of contents holds at most 255 chapters, not {len(tags.chapters)}")
    comment = f"{tags.comment} Made with pelvicvoice {__version__}."
    toc = (
        _latin1_terminated("toc")
        + bytes([_CTOC_TOP_LEVEL | _CTOC_ORDERED, len(tags.chapters)])
        + b"".join(_latin1_terminated(chapter.element_id) for chapter in tags.chapters)
        + _text_frame("TIT2", tags.title)
    )
    frames = [
        _text_frame("TIT2", tags.title),
        _text_frame("TALB", tags.album),
        _text_frame("TPE1", tags.artist),
        _text_frame("TLAN", tags.language),
        _frame("COMM", bytes([_UTF16]), _comment_language(tags.language), _utf16(""), _NUL16, _utf16(comment)),
        _frame("CTOC", toc),
    ]
    for chapter in tags.chapters:
        times = b"".join(value.to_bytes(4, "big") for value in (chapter.start_ms, chapter.end_ms))
        frames.append(
            _frame(
                "CHAP",
                _latin1_terminated(chapter.element_id),
                times,
                _NO_BYTE_OFFSET * 2,
                _text_frame("TIT2", chapter.title),
            )
        )
    body = b"".join(frames)
    return b"ID3" + bytes([3, 0, 0]) + _syncsafe(len(body)) + body


def id3_size(data: bytes) -> int:
    """Return the size of the ID3v2 tag at the start of data (0 when there is none)."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    return 10 + sum((byte & 0x7F) << (7 * (3 - index)) for index, byte in enumerate(data[6:10]))


_UTF16 = 1  # ID3v2.3 text encoding: UTF-16 with a byte-order mark (v2.3 has no UTF-8)
_NUL16 = b"\0\0"
_CTOC_TOP_LEVEL, _CTOC_ORDERED = 0x02, 0x01
_NO_BYTE_OFFSET = b"\xff\xff\xff\xff"  # CHAP: chapters are placed by time only


def _frame(frame_id: str, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return frame_id.encode("ascii") + len(body).to_bytes(4, "big") + b"\0\0" + body


def _text_frame(frame_id: str, text: str) -> bytes:
    return _frame(frame_id, bytes([_UTF16]), _utf16(text))


def _utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def _comment_language(language: str) -> bytes:
    """Return the three-letter code a comment needs: "und" (undetermined) for any other code."""
    return language.encode("latin-1") if len(language) == 3 and language.isascii() else b"und"


def _latin1_terminated(text: str) -> bytes:
    return text.encode("latin-1") + b"\0"


def _syncsafe(size: int) -> bytes:
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
