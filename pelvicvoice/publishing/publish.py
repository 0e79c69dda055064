"""Publish sessions as a static podcast site: one feed per language, episodes, transcripts, pages."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pelvicvoice.build import Session, Toolchain, expand_sessions, write_sessions
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.frames import decoded_samples
from pelvicvoice.mp3.splice import ChunkCounts
from pelvicvoice.mp3.tags import id3_size, session_tags
from pelvicvoice.output import write_if_changed
from pelvicvoice.publishing.cover import cover_pixels, png_bytes
from pelvicvoice.publishing.episodes import FeedTexts, ScheduledEpisode, episode_guid, site_base_url
from pelvicvoice.publishing.feed import Episode, Feed, Transcript, feed_xml
from pelvicvoice.publishing.reminders import ReminderCalendar, calendar_ics, webcal_url
from pelvicvoice.publishing.site import CalendarLink, EpisodePage, index_html, language_html
from pelvicvoice.script.formats import chapters_json, to_json, to_srt, to_vtt, transcript_json

MANIFEST = ".pelvicvoice-episodes.json"
_ID3_HEADER_BYTES = 10
_INFO_FRAME_BYTES = 4096  # more than any MPEG-2 Layer III frame


@dataclass(frozen=True)
class PublishReport:
    """What a publish wrote."""

    written: int
    reused: int
    feeds: tuple[Path, ...]
    calendars: tuple[Path, ...]
    seconds: float
    chunks: ChunkCounts  # of the episodes written: MP3 chunks encoded, and taken from the cache


def publish(
    episodes: list[ScheduledEpisode],
    feed_texts: FeedTexts,
    toolchain: Toolchain,
    out_dir: Path,
    base_url: str,
    on_written: Callable[[Path], None] = lambda path: None,
    calendars: tuple[ReminderCalendar, ...] = (),
) -> PublishReport:
    """Build every changed episode's MP3, then write each episode's files, a feed and page per feed, an index.

    A plan's calendars (reminders.calendars_for) are written beside its feeds and linked from their pages.
    """
    started = time.perf_counter()
    base_url = site_base_url(base_url)
    # Expanded once: the same sessions are keyed, built (where stale) and described in the feeds.
    sessions = expand_sessions([episode.request for episode in episodes], toolchain.library, out_dir)
    manifest_path = out_dir / MANIFEST
    manifest = _read_manifest(manifest_path)
    keys = {_relative(session): episode_key(toolchain, session) for session in sessions}
    stale = [s for s in sessions if manifest.get(_relative(s)) != keys[_relative(s)] or not s.target.is_file()]
    chunks = ChunkCounts()
    if stale:
        chunks = write_sessions(stale, toolchain, on_written, leveled=True).chunks
    _write_text(manifest_path, json.dumps(keys, indent=1, sort_keys=True) + "\n")
    write_if_changed(out_dir / "cover.png", png_bytes(cover_pixels()))
    by_feed: dict[FeedPlace, list[tuple[ScheduledEpisode, Session]]] = {}
    for episode, session in zip(episodes, sessions, strict=True):
        place = FeedPlace(episode.request.language, episode.feed)
        by_feed.setdefault(place, []).append((episode, session))
    places = sorted(by_feed, key=lambda place: (place.language, place.feed is not None, place.feed or ""))
    for calendar in calendars:
        write_if_changed(out_dir / calendar.file, calendar_ics(calendar))
    by_language = {calendar.language: calendar for calendar in calendars}
    feeds = [
        _publish_feed(place, by_feed[place], toolchain, out_dir, base_url, feed_texts, by_language.get(place.language))
        for place in places
    ]
    _write_text(
        out_dir / "index.html", index_html([(feed, place.page) for feed, place in zip(feeds, places, strict=True)])
    )
    feed_files = tuple(out_dir / place.feed_file for place in places)
    calendar_files = tuple(out_dir / calendar.file for calendar in calendars)
    return PublishReport(
        len(stale), len(sessions) - len(stale), feed_files, calendar_files, time.perf_counter() - started, chunks
    )


@dataclass(frozen=True)
class FeedPlace:
    """A feed of one language: the main one (feed None) or a feed of its own, and where its files go."""

    language: str
    feed: str | None

    @property
    def stem(self) -> str:
        """Name the feed's files in the language folder: feed.xml and index.html, or <feed>.xml and .html."""
        return "feed" if self.feed is None else self.feed.replace("_", "-")

    @property
    def feed_file(self) -> str:
        return f"{self.language}/{self.stem}.xml"

    @property
    def page_file(self) -> str:
        return f"{self.language}/index.html" if self.feed is None else f"{self.language}/{self.stem}.html"

    @property
    def page(self) -> str:
        """Link to the page: its folder for the main feed's index.html."""
        return self.page_file.removesuffix("index.html")


def episode_key(toolchain: Toolchain, session: Session) -> str:
    """Key everything that shapes an episode's audio and tags; equal keys mean equal files."""
    profile = asdict(session.profile) | {"location": None}
    return toolchain.settings.episode_key(to_json(session.script), profile, asdict(session_tags(session.script)))


def _publish_feed(
    place: FeedPlace,
    group: list[tuple[ScheduledEpisode, Session]],
    toolchain: Toolchain,
    out_dir: Path,
    base_url: str,
    feed_texts: FeedTexts,
    calendar: ReminderCalendar | None,
) -> Feed:
    """Write one feed's episode files, the feed and its page (with the link to its calendar); return the feed."""
    language = place.language
    folder = out_dir / language
    items, page_entries = [], []
    for episode, session in sorted(group, key=lambda pair: pair[0].published):
        script = session.script
        stem = episode.request.file_stem
        _write_text(folder / f"{stem}.chapters.json", chapters_json(script))
        _write_text(folder / f"{stem}.vtt", to_vtt(script))
        _write_text(folder / f"{stem}.srt", to_srt(script))
        _write_text(folder / f"{stem}.transcript.json", transcript_json(script))
        url = f"{base_url}{language}/{stem}"
        items.append(_episode(episode, session, url, f"{base_url}{place.page}#{stem}"))
        page_entries.append(EpisodePage(stem, episode.title, script, f"{stem}.mp3", f"{stem}.vtt"))
    title, description = feed_texts(language, place.feed)
    feed = Feed(
        title=title,
        description=description,
        language=language,
        url=f"{base_url}{place.feed_file}",
        site_url=f"{base_url}{place.page}",
        image_url=f"{base_url}cover.png",
        author="pelvicvoice",
        episodes=tuple(items),
    )
    write_if_changed(out_dir / place.feed_file, feed_xml(feed))
    phrases = toolchain.library.catalogs[language].phrases
    link = None
    if calendar is not None and place.feed is None:
        url = f"{base_url}{calendar.file}"
        link = CalendarLink(phrases["site_reminders"], webcal_url(url), url)
    page = language_html(feed, page_entries, phrases["site_transcript"], f"{place.stem}.xml", link)
    _write_text(out_dir / place.page_file, page)
    return feed


def _relative(session: Session) -> str:
    return f"{session.target.parent.name}/{session.target.name}"


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _episode(episode: ScheduledEpisode, session: Session, url: str, page: str) -> Episode:
    script, audio = session.script, session.target
    # Only the tag header and the Info frame after the tag are read, not the whole episode.
    with audio.open("rb") as file:
        file.seek(id3_size(file.read(_ID3_HEADER_BYTES)))
        samples = decoded_samples(file.read(_INFO_FRAME_BYTES))
    return Episode(
        title=episode.title,
        description=script.description,
        guid=episode_guid(episode.request),
        published=episode.published,
        audio_url=f"{url}.mp3",
        audio_bytes=audio.stat().st_size,
        duration_seconds=round(samples / SAMPLE_RATE),
        chapters_url=f"{url}.chapters.json",
        transcripts=(
            Transcript(f"{url}.vtt", "text/vtt"),
            Transcript(f"{url}.srt", "application/x-subrip"),
            Transcript(f"{url}.transcript.json", "application/json"),
        ),
        page_url=page,
    )


def _write_text(path: Path, text: str) -> None:
    write_if_changed(path, text.encode("utf-8"))
