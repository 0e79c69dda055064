"""Which episodes a publication has: from programs (each level too) or a plan, named, dated and identified."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.phrases import feed_texts
from pelvicvoice.definitions.plans import Phase, Plan, PlanEntry, how_often_label, plan_requests, weeks_label
from pelvicvoice.definitions.requests import make_requests, session_title
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.model import SessionRequest

# Publication dates come from SOURCE_DATE_EPOCH, or else from this fixed day: never from the clock.
DEFAULT_START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pelvicvoice.invalid/episodes")


@dataclass(frozen=True)
class ScheduledEpisode:
    """A session to publish, with its file name, its title in the feed and its publication date."""

    request: SessionRequest
    published: datetime
    title: str  # unique in its feed: the program's title and what is particular to this episode
    feed: str | None  # the feed it is published in: None for the main one (a plan's is always that)


def start_date(environment: dict[str, str], first_day: str | None = None) -> datetime:
    """Return the first publication date: first_day (--start YYYY-MM-DD), else SOURCE_DATE_EPOCH, else DEFAULT_START.

    A first day is published at DEFAULT_START's time of day, so its date is the same from UTC-6 to UTC+17.
    """
    if first_day is not None:
        try:
            return datetime.combine(date.fromisoformat(_DAY.match(first_day)[0]), DEFAULT_START.timetz())
        except (TypeError, ValueError) as error:  # no match; a day that does not exist, like 2026-02-30
            reason = f" ({error})" if isinstance(error, ValueError) else ""
            raise DefinitionError.at(
                Location("--start"), f"{first_day!r} is not a date{reason}; write YYYY-MM-DD, e.g. 2026-03-02"
            ) from None
    epoch = environment.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return DEFAULT_START
    if not epoch.isdigit():
        raise DefinitionError.at(Location("SOURCE_DATE_EPOCH"), f"{epoch!r} is not a whole number of seconds")
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def episodes_from_programs(
    library: Library, names: tuple[str, ...], languages: tuple[str, ...], start: datetime
) -> list[ScheduledEpisode]:
    """Plan one episode per program (and per level of it) and language, a minute apart."""
    requests = []
    for name in names:
        program = library.find(name)
        for level in (None, *program.levels):
            requests.extend(make_requests(library, (name,), languages or ("all",), (), level))
    return [
        ScheduledEpisode(
            named_episode(request), start + timedelta(minutes=index), session_title(request), request.program.feed
        )
        for index, request in enumerate(requests)
    ]


def episodes_from_plan(
    library: Library, plan: Plan, languages: tuple[str, ...], start: datetime
) -> list[ScheduledEpisode]:
    """Plan one episode per distinct session of the plan, published in the week it starts.

    Its title says when and how often: "Weeks 3-6: Quick squeezes, 3x a day; Weeks 7-12, 2x a day",
    where weeks in a row at the same frequency are said once.
    """
    first_seen: dict[tuple[str, str], tuple[SessionRequest, datetime]] = {}
    spans: dict[tuple[str, str], list[tuple[Phase, PlanEntry]]] = {}
    for phase, entries in zip(plan.phases, plan_requests(plan, library, languages or plan.languages), strict=True):
        week_start = start + timedelta(weeks=phase.first_week - 1)
        for index, (entry, requests) in enumerate(zip(phase.entries, entries, strict=True)):
            for request in requests:
                named = named_episode(request)
                key = (named.language, named.file_stem)
                first_seen.setdefault(key, (named, week_start + timedelta(minutes=index)))
                earlier = spans.setdefault(key, [])
                if earlier and _continues(earlier[-1], phase, entry):
                    earlier[-1] = (replace(earlier[-1][0], last_week=phase.last_week), entry)
                else:
                    earlier.append((phase, entry))
    episodes = []
    for key, (named, published) in first_seen.items():
        catalog = library.catalogs[named.language]
        parts = [(weeks_label(phase, catalog), how_often_label(entry, catalog)) for phase, entry in spans[key]]
        (weeks, how_often), *later = parts
        title = "; ".join([f"{weeks}: {session_title(named)}, {how_often}", *(f"{w}, {h}" for w, h in later)])
        episodes.append(ScheduledEpisode(named, published, title, None))
    return _with_unique_titles(episodes)


def _continues(span: tuple[Phase, PlanEntry], phase: Phase, entry: PlanEntry) -> bool:
    """Tell whether phase follows span's weeks directly, at the same frequency."""
    earlier_phase, earlier_entry = span
    follows = earlier_phase.last_week is not None and earlier_phase.last_week + 1 == phase.first_week
    return follows and (earlier_entry.times, earlier_entry.per) == (entry.times, entry.per)


def _with_unique_titles(episodes: list[ScheduledEpisode]) -> list[ScheduledEpisode]:
    """Add the settings to a title that would repeat in its feed (one program twice in one phase)."""
    seen: dict[tuple[str, str | None, str], int] = {}
    for episode in episodes:
        place = (episode.request.language, episode.feed, episode.title)
        seen[place] = seen.get(place, 0) + 1
    unique = []
    for episode in episodes:
        request = episode.request
        if seen[(request.language, episode.feed, episode.title)] > 1:
            changed = [f"{name}={value:g}" for name, value in _changed_settings(request)]
            episode = replace(episode, title=f"{episode.title} ({', '.join(changed) or request.program.id})")
        unique.append(episode)
    return unique


# A feed's title and description, by language and feed (None: the main feed).
FeedTexts = Callable[[str, "str | None"], tuple[str, str]]


def choose_episodes(
    library: Library, sources: tuple[str, ...], languages: tuple[str, ...], start: datetime
) -> tuple[list[ScheduledEpisode], FeedTexts]:
    """Return the episodes to publish and each feed's title and description.

    sources is one plan (a built-in plan id or a *.plan.yaml file) or programs; none means
    the whole library. Programs with a feed of their own (program.feed) get theirs, except in a plan.
    """
    if len(sources) == 1 and library.is_plan(sources[0]):
        plan = library.find_plan(sources[0])

        def plan_texts(language: str, feed: str | None) -> tuple[str, str]:
            # A plan is one feed: its episodes stay together whatever feed their programs have.
            return plan.titles[language], plan.descriptions[language]

        return episodes_from_plan(library, plan, languages, start), plan_texts

    def library_texts(language: str, feed: str | None) -> tuple[str, str]:
        if feed is None:
            phrases = library.catalogs[language].phrases
            return phrases["podcast_title"], phrases["podcast_description"]
        return own_feed_texts(library, language, feed)

    programs = sources or tuple(library.builtin_ids())
    return episodes_from_programs(library, programs, languages, start), library_texts


def own_feed_texts(library: Library, language: str, feed: str) -> tuple[str, str]:
    """Return a feed of its own's title and description (Library.find checked they exist)."""
    texts = feed_texts(library.catalogs[language], feed)
    assert texts is not None, (language, feed)
    return texts


def _changed_settings(request: SessionRequest) -> list[tuple[str, float | int]]:
    """Return the parameters a session sets away from its program's defaults, by name."""
    defaults = request.program.defaults
    return [(name, value) for name, value in sorted(request.parameters.items()) if value != defaults[name]]


def named_episode(request: SessionRequest) -> SessionRequest:
    """Name an episode by its program, level and changed settings: stable across rebuilds."""
    changed = [f"{name}{value:g}" for name, value in _changed_settings(request)]
    if request.level:
        level_values = request.program.levels[request.level].values
        changed = [part for part in changed if not any(part == f"{n}{v:g}" for n, v in level_values.items())]
    name = "-".join([request.program.id, *([request.level] if request.level else []), *changed])
    return replace(request, name=name)


def episode_guid(request: SessionRequest) -> str:
    """Return an item guid derived from program, level, settings and language, never from time."""
    settings = ",".join(f"{name}={value:g}" for name, value in sorted(request.parameters.items()))
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{request.program.id}|{request.level}|{settings}|{request.language}"))


# What may not appear in a URL as it is (RFC 3986): it would have to be percent-encoded.
_NOT_IN_URL = re.compile(r'[\s"<>\\^`{|}]')


def site_base_url(text: str) -> str:
    """Return where a site will be served, ending in one slash; it is written into every feed, page and calendar."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or _NOT_IN_URL.search(text) or parts.query:
        raise DefinitionError.at(
            Location("--base-url"),
            f"{text!r} is not an http(s) URL of a folder; write it like https://example.org/sessions",
        )
    return text.rstrip("/") + "/"
