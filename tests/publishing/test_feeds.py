"""Feeds of their own: the miscarriage programs are published apart from the birth and baby episodes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest

from pelvicvoice.build import make_toolchain
from pelvicvoice.publishing.episodes import choose_episodes, start_date
from pelvicvoice.publishing.publish import publish

BASE = "http://127.0.0.1:8000"
PROGRAMS = ("quick-squeezes", "after-miscarriage-recovery")


def test_miscarriage_episodes_have_their_own_feed_and_page(tone_library, tmp_path):
    episodes, texts = choose_episodes(tone_library, PROGRAMS, ("ko",), start_date({}))
    out = tmp_path / "site"
    with make_toolchain(tone_library, tmp_path / "cache", jobs=2) as toolchain:
        report = publish(episodes, texts, toolchain, out, BASE)
    assert [path.relative_to(out).as_posix() for path in report.feeds] == ["ko/feed.xml", "ko/after-miscarriage.xml"]
    for language in ("ko",):
        main = ET.parse(out / language / "feed.xml").getroot()
        own = ET.parse(out / language / "after-miscarriage.xml").getroot()
        assert [link.text.rsplit("#")[1] for link in main.findall("channel/item/link")] == ["quick-squeezes"]
        assert [link.text.rsplit("#")[1] for link in own.findall("channel/item/link")] == ["after-miscarriage-recovery"]
        phrases = tone_library.catalogs[language].phrases
        assert own.findtext("channel/title") == phrases["feed_after_miscarriage_title"]
        assert own.findtext("channel/link") == f"{BASE}/{language}/after-miscarriage.html"
        namespaces = {"atom": "http://www.w3.org/2005/Atom", "podcast": "https://podcastindex.org/namespace/1.0"}
        assert own.find("channel/atom:link", namespaces).get("href") == f"{BASE}/{language}/after-miscarriage.xml"
        assert own.findtext("channel/podcast:guid", namespaces=namespaces) != main.findtext(
            "channel/podcast:guid", namespaces=namespaces
        )
        parsed = feedparser.parse(str(out / language / "after-miscarriage.xml"))
        assert not parsed.bozo and len(parsed.entries) == 1
        page = (out / language / "after-miscarriage.html").read_text(encoding="utf-8")
        assert 'src="after-miscarriage-recovery.mp3"' in page and 'href="after-miscarriage.xml"' in page
        assert "quick-squeezes" not in page
        assert "after-miscarriage-recovery" not in (out / language / "index.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="ko/after-miscarriage.html"' in index and 'href="ko/"' in index


@pytest.mark.parametrize(
    "sources", [(), ("first-six-months",), ("after-prostate-surgery",)], ids=["library", "plan", "men's plan"]
)
def test_every_title_in_a_feed_is_unique_and_says_what_differs(library, sources):
    episodes, _ = choose_episodes(library, sources, (), start_date({}))
    feeds: dict[tuple[str, str | None], list[str]] = {}
    for episode in episodes:
        feeds.setdefault((episode.request.language, episode.feed), []).append(episode.title)
    assert len(feeds) == (18 if not sources else 6)  # the main feed, miscarriage and men's; a plan's one
    for feed, titles in feeds.items():
        assert len(set(titles)) == len(titles), (feed, titles)
    english = {episode.request.file_stem: episode.title for episode in episodes if episode.request.language == "en"}
    if sources == ("after-prostate-surgery",):
        assert english["men-pelvic-floor-training-strong"] == (
            "Weeks 7-12: Pelvic floor training for men (Strong), 3x a day; From week 13, 3x a week"
        )
    elif sources:
        assert english["kegel-basics-reps8"] == "Weeks 1-2: Kegel basics, 3x a day"
        assert english["quick-squeezes"] == "Weeks 3-6: Quick squeezes, 3x a day"
        assert english["intensive-standard"] == "Weeks 7-32: Intensive pelvic floor training (Standard), 1x a day"
        assert english["maintenance"] == "From week 33: Maintenance training, 2x a week"
    else:
        assert english["intensive-gentle"] == "Intensive pelvic floor training (Gentle)"


@pytest.mark.parametrize("plan_id", ["pregnancy", "after-prostate-surgery"])
def test_a_plan_publishes_as_one_feed_of_its_own(tone_library, tmp_path, plan_id):
    """Every session of a plan is in the plan's feed, even one whose program has a feed of its own."""
    plan = tone_library.find_plan(plan_id)
    episodes, texts = choose_episodes(tone_library, (plan_id,), ("nb",), start_date({}))
    out = tmp_path / "site"
    with make_toolchain(tone_library, tmp_path / "cache", jobs=2) as toolchain:
        report = publish(episodes, texts, toolchain, out, BASE)
    assert [path.relative_to(out).as_posix() for path in report.feeds] == ["nb/feed.xml"]
    channel = ET.parse(out / "nb" / "feed.xml").getroot().find("channel")
    assert channel.findtext("title") == plan.titles["nb"]
    assert channel.findtext("description") == plan.descriptions["nb"]
    programs = {entry.program for phase in plan.phases for entry in phase.entries}
    linked = {link.text.rsplit("#")[1] for link in channel.findall("item/link")}
    assert len(channel.findall("item")) == len(episodes) == len(linked)
    assert {stem.split("-")[0] for stem in linked} <= {program.split("-")[0] for program in programs}
    first = [episode.title for episode in episodes if episode.published == min(e.published for e in episodes)]
    assert all(title.startswith("Uke 1") for title in first), first
