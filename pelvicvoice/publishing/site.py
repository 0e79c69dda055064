"""The static site: an index of languages and a page per language with player, chapters, transcript."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from pelvicvoice.model import CueScript
from pelvicvoice.publishing.feed import Feed
from pelvicvoice.script.formats import format_duration, seconds

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 0 auto; padding: 1rem; line-height: 1.5;
       color: #1d2b33; background: #f7f5ef; }
header img { width: 6rem; height: 6rem; border-radius: .5rem; float: right; }
article { background: #fff; border-radius: .75rem; padding: 1rem; margin: 1rem 0; box-shadow: 0 1px 3px #0002; }
audio { width: 100%; }
.chapters button { margin: .2rem .3rem .2rem 0; padding: .4rem .7rem; border: 0; border-radius: 1rem;
                   background: #2a9d8f; color: #fff; font-size: 1rem; }
.transcript { max-height: 16rem; overflow-y: auto; font-size: .95rem; }
.transcript time { color: #6b7b83; margin-right: .5rem; font-variant-numeric: tabular-nums; }
a.feed { display: inline-block; padding: .5rem 1rem; background: #e9c46a; border-radius: 1rem; color: #1d2b33; }
"""

# Chapter buttons seek the episode's own player; no build step, no library.
_SCRIPT = """
document.querySelectorAll('.chapters button').forEach(function (button) {
  button.addEventListener('click', function () {
    var audio = document.getElementById(button.dataset.player);
    audio.currentTime = parseFloat(button.dataset.start);
    audio.play();
  });
});
"""


@dataclass(frozen=True)
class EpisodePage:
    """What a language page shows of an episode."""

    anchor: str
    title: str
    script: CueScript
    audio: str
    captions: str


def _page(language: str, title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def index_html(feeds: list[tuple[Feed, str]]) -> str:
    """Render the start page: one entry per feed, with its page (a path from here) and the feed."""
    entries = "\n".join(
        f'<article><h2><a href="{escape(page)}">{escape(feed.title)}</a></h2>'
        f"<p>{escape(feed.description)}</p>"
        f'<a class="feed" href="{escape(feed.url)}">RSS</a></article>'
        for feed, page in feeds
    )
    body = '<header><img src="cover.png" alt=""><h1>pelvicvoice</h1></header>\n' + entries
    return _page("en", "pelvicvoice", body)


@dataclass(frozen=True)
class CalendarLink:
    """A plan's reminders: subscribed to as webcal://, or fetched over http(s)."""

    label: str
    webcal_url: str
    url: str


def language_html(
    feed: Feed,
    episodes: list[EpisodePage],
    transcript_label: str,
    feed_file: str = "feed.xml",
    calendar: CalendarLink | None = None,
) -> str:
    """Render a language's page: each episode with a player, chapter buttons and its transcript."""
    articles = []
    for episode in episodes:
        script = episode.script
        player = f"player-{episode.anchor}"
        chapters = "".join(
            f'<button type="button" data-player="{player}" data-start="{seconds(chapter.start, script.sample_rate)}">'
            f"{escape(chapter.title)}</button>"
            for chapter in script.chapters
        )
        lines = "".join(
            f"<li><time>{format_duration(cue.start / script.sample_rate)}</time>{escape(cue.text)}</li>"
            for cue in script.cues
        )
        articles.append(
            f'<article id="{escape(episode.anchor)}"><h2>{escape(episode.title)}</h2>'
            f"<p>{escape(script.description)} ({format_duration(script.duration)})</p>"
            f'<audio id="{player}" controls preload="metadata" src="{escape(episode.audio)}">'
            f'<track kind="captions" srclang="{escape(feed.language)}" '
            f'src="{escape(episode.captions)}" default></audio>'
            f'<div class="chapters">{chapters}</div>'
            f'<details><summary>{escape(transcript_label)}</summary><ol class="transcript">{lines}</ol></details>'
            "</article>"
        )
    reminders = ""
    if calendar is not None:
        reminders = (
            f' <a class="feed" href="{escape(calendar.webcal_url)}">{escape(calendar.label)}</a>'
            f' <a href="{escape(calendar.url)}">.ics</a>'
        )
    body = (
        f'<header><img src="../cover.png" alt=""><h1>{escape(feed.title)}</h1>'
        f'<p>{escape(feed.description)}</p><a class="feed" href="{escape(feed_file)}">RSS</a>{reminders}</header>\n'
        + "\n".join(articles)
    )
    return _page(feed.language, feed.title, body)
