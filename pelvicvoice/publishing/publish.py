"""Publish sessions as a static podcast site: one feed per language, episodes, transcripts, pages."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pelvicvoice import __version__
from pelvicvoice.build import VoiceChoice, build_sessions, make_requests, session_script
from pelvicvoice.audio.clips import ClipProvider, engine_identity
from pelvicvoice.publishing.cover import cover_pixels, png_bytes
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.publishing.feed import Episode, Feed, Transcript, feed_xml
from pelvicvoice.script.formats import chapters_json, to_json, to_srt, to_vtt, transcript_json
from pelvicvoice.definitions.library import Library
from pelvicvoice.audio.loudness import TARGET_LUFS_DUAL_MONO, TRUE_PEAK_CEILING_DBTP, normalized_clips
from pelvicvoice.model import SAMPLE_RATE, CueScript, SessionRequest, VoiceProfile
from pelvicvoice.mp3.frames import decoded_samples
from pelvicvoice.definitions.plans import Plan, builtin_plan_ids, find_plan, plan_requests
from pelvicvoice.publishing.site import EpisodePage, index_html, language_html
from pelvicvoice.mp3.splice import ChunkEncoder
from pelvicvoice.mp3.tags import id3_size, session_tags

MANIFEST = ".pelvicvoice-episodes.json"
# Publication dates come from SOURCE_DATE_EPOCH, or else from this fixed day: never from the clock.
DEFAULT_START = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)
_ID3_HEADER_BYTES = 10
_INFO_FRAME_BYTES = 4096  # more than any MPEG-2 Layer III frame
_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pelvicvoice.invalid/episodes")


@dataclass(frozen=True)
class PlannedEpisode:
    """A session to publish, with its file name and publication date."""

    request: SessionRequest
    published: datetime


@dataclass(frozen=True)
class PublishReport:
    """What a publish wrote."""

    written: int
    reused: int
    feeds: tuple[Path, ...]
    seconds: float


def start_date(environment: dict[str, str]) -> datetime:
    """Return the first publication date: SOURCE_DATE_EPOCH if set, else DEFAULT_START."""
    epoch = environment.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return DEFAULT_START
    if not epoch.isdigit():
        raise DefinitionError.at(Location("SOURCE_DATE_EPOCH"), f"{epoch!r} is not a whole number of seconds")
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc)


def episodes_from_programs(
    library: Library, names: tuple[str, ...], languages: tuple[str, ...], start: datetime
) -> list[PlannedEpisode]:
    """Plan one episode per program (and per level of it) and language, a minute apart."""
    requests = []
    for name in names:
        program = library.find(name)
        for level in (None, *program.levels):
            requests.extend(make_requests(library, (name,), languages or ("all",), (), level))
    return [PlannedEpisode(_named(request), start + timedelta(minutes=index)) for index, request in enumerate(requests)]


def episodes_from_plan(
    library: Library, plan: Plan, languages: tuple[str, ...], start: datetime
) -> list[PlannedEpisode]:
    """Plan one episode per distinct session of the plan, published in the week it starts."""
    episodes: dict[tuple[str, str], PlannedEpisode] = {}
    for phase, entries in zip(plan.phases, plan_requests(plan, library, languages or plan.languages), strict=True):
        week_start = start + timedelta(weeks=phase.first_week - 1)
        for index, requests in enumerate(entries):
            for request in requests:
                named = _named(request)
                key = (named.language, named.file_stem)
                if key not in episodes:
                    episodes[key] = PlannedEpisode(named, week_start + timedelta(minutes=index))
    return list(episodes.values())


def plan_publication(
    library: Library, sources: tuple[str, ...], languages: tuple[str, ...], start: datetime
) -> tuple[list[PlannedEpisode], Callable[[str], tuple[str, str]]]:
    """Return the episodes to publish and each feed's title and description.

    sources is one plan (a built-in plan id or a *.plan.yaml file) or programs; none means
    the whole library.
    """
    if len(sources) == 1 and (sources[0] in builtin_plan_ids() or sources[0].endswith(".plan.yaml")):
        plan = find_plan(sources[0], library)

        def plan_texts(language: str) -> tuple[str, str]:
            return plan.titles[language], plan.descriptions[language]

        return episodes_from_plan(library, plan, languages, start), plan_texts

    def library_texts(language: str) -> tuple[str, str]:
        phrases = library.catalogs[language].phrases
        return phrases["podcast_title"], phrases["podcast_description"]

    programs = sources or tuple(library.builtin_ids())
    return episodes_from_programs(library, programs, languages, start), library_texts


def _named(request: SessionRequest) -> SessionRequest:
    """Name an episode by its program, level and changed settings: stable across rebuilds."""
    defaults = request.program.defaults
    changed = [f"{name}{value:g}" for name, value in sorted(request.parameters.items()) if value != defaults[name]]
    if request.level:
        level_values = request.program.levels[request.level].values
        changed = [part for part in changed if not any(part == f"{n}{v:g}" for n, v in level_values.items())]
    name = "-".join([request.program.id, *([request.level] if request.level else []), *changed])
    return replace(request, name=name)


def episode_guid(request: SessionRequest) -> str:
    """Return an item guid derived from program, level, settings and language, never from time."""
    settings = ",".join(f"{name}={value:g}" for name, value in sorted(request.parameters.items()))
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{request.program.id}|{request.level}|{settings}|{request.language}"))


def publish(
    episodes: list[PlannedEpisode],
    library: Library,
    clips: ClipProvider,
    encoder: ChunkEncoder,
    out_dir: Path,
    base_url: str,
    feed_texts: Callable[[str], tuple[str, str]],
    jobs: int = 1,
    on_written: Callable[[Path], None] = lambda path: None,
) -> PublishReport:
    """Build every episode's MP3 and files, then write one feed and one page per language, and an index."""
    started = time.perf_counter()
    base_url = base_url.rstrip("/") + "/"
    by_language: dict[str, list[PlannedEpisode]] = {}
    for episode in episodes:
        by_language.setdefault(episode.request.language, []).append(episode)
    scripts = {id(episode): session_script(episode.request, library) for episode in episodes}
    manifest_path = out_dir / MANIFEST
    manifest = _read_manifest(manifest_path)
    identities = [engine_identity(), encoder.identity]  # the speech engine and the encoder
    hashes = {id(e): _episode_hash(scripts[id(e)], library.voices[e.request.language], identities) for e in episodes}
    stale = [
        episode
        for episode in episodes
        if manifest.get(_relative(episode)) != hashes[id(episode)] or not (out_dir / _relative(episode)).is_file()
    ]
    requests = [episode.request for episode in stale]
    if requests:
        build_sessions(requests, library, clips, out_dir, VoiceChoice(), on_written, encoder, jobs, normalized_clips)
    manifest = {_relative(episode): hashes[id(episode)] for episode in episodes}
    _write_text(manifest_path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _write_bytes(out_dir / "cover.png", png_bytes(cover_pixels()))
    feed_files, feeds = [], []
    for language, group in sorted(by_language.items()):
        folder = out_dir / language
        folder.mkdir(parents=True, exist_ok=True)
        items, page_entries = [], []
        for episode in sorted(group, key=lambda e: e.published):
            script = scripts[id(episode)]
            stem = episode.request.file_stem
            audio = folder / f"{stem}.mp3"
            _write_text(folder / f"{stem}.chapters.json", chapters_json(script))
            _write_text(folder / f"{stem}.vtt", to_vtt(script))
            _write_text(folder / f"{stem}.srt", to_srt(script))
            _write_text(folder / f"{stem}.transcript.json", transcript_json(script))
            url = f"{base_url}{language}/{stem}"
            items.append(_episode(episode, script, audio, url, f"{base_url}{language}/#{stem}"))
            page_entries.append(EpisodePage(stem, script, f"{stem}.mp3", f"{stem}.vtt"))
        title, description = feed_texts(language)
        feed = Feed(
            title=title,
            description=description,
            language=language,
            url=f"{base_url}{language}/feed.xml",
            site_url=f"{base_url}{language}/",
            image_url=f"{base_url}cover.png",
            author="pelvicvoice",
            episodes=tuple(items),
        )
        _write_bytes(folder / "feed.xml", feed_xml(feed))
        label = library.catalogs[language].phrases["site_transcript"]
        _write_text(folder / "index.html", language_html(feed, page_entries, label))
        feed_files.append(folder / "feed.xml")
        feeds.append(feed)
    _write_text(out_dir / "index.html", index_html(feeds))
    return PublishReport(len(stale), len(episodes) - len(stale), tuple(feed_files), time.perf_counter() - started)


def _relative(episode: PlannedEpisode) -> str:
    return f"{episode.request.language}/{episode.request.file_stem}.mp3"


def _episode_hash(script: CueScript, voice: VoiceProfile, identities: list[str]) -> str:
    """Hash everything that shapes an episode's audio and tags; equal hashes mean equal files."""
    material = json.dumps(
        [__version__, to_json(script), asdict(voice) | {"location": None}, *identities,
         TARGET_LUFS_DUAL_MONO, TRUE_PEAK_CEILING_DBTP, asdict(session_tags(script))],
        ensure_ascii=False, sort_keys=True, default=str,
    )  # fmt: skip
    return hashlib.sha256(material.encode()).hexdigest()


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _episode(episode: PlannedEpisode, script: CueScript, audio: Path, url: str, page: str) -> Episode:
    # Only the tag header and the Info frame after the tag are read, not the whole episode.
    with audio.open("rb") as file:
        file.seek(id3_size(file.read(_ID3_HEADER_BYTES)))
        samples = decoded_samples(file.read(_INFO_FRAME_BYTES))
    return Episode(
        title=script.title,
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
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    # Leave a file that already holds these bytes alone: its time stays, so hosts see no change.
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
