"""Every text an author writes reaches HTML, XML, JSON, WebVTT and SubRip as text, never as markup."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from pelvicvoice.build import make_toolchain
from pelvicvoice.errors import DefinitionError
from pelvicvoice.publishing.episodes import choose_episodes, start_date
from pelvicvoice.publishing.publish import publish

from conftest import write

# Markup, a CDATA end, both quotes, a WebVTT arrow, an entity and a line separator.
NASTY = "<script>alert('x')</script> & ]]> \"q\" --> &amp; \u2028 end"
TITLE, DESCRIPTION, CHAPTER, PHRASE = (f"{name} {NASTY}" for name in ("Title", "About", "Chapter", "Squeeze"))
PROGRAM = f"""\
id: nasty
title: {{en: {json.dumps(TITLE)}}}
description: {{en: {json.dumps(DESCRIPTION)}}}
source: a physiotherapist
phrases: {{en: {{go: {json.dumps(PHRASE)}}}}}
sections:
  - title: {{en: {json.dumps(CHAPTER)}}}
    steps:
      - say: safety
      - hold: 4
        say: go
"""
BASE = "https://example.org/a&b/"


class _Page(HTMLParser):
    """The tags of a page and its text."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text += data


@pytest.fixture(scope="module")
def site(tone_library, tmp_path_factory):
    root = tmp_path_factory.mktemp("nasty")
    program = write(root / "nasty.yaml", PROGRAM)
    episodes, texts = choose_episodes(tone_library, (str(program),), ("en",), start_date({}))
    with make_toolchain(tone_library, root / "cache", jobs=1) as toolchain:
        publish(episodes, texts, toolchain, root / "site", BASE)
    return root / "site" / "en"


def test_the_feed_holds_every_text_as_text(site):
    item = ET.parse(site / "feed.xml").getroot().find("channel/item")
    assert item.findtext("title") == TITLE
    assert item.findtext("description") == DESCRIPTION
    assert item.find("enclosure").get("url") == f"{BASE}en/nasty.mp3"


def test_the_page_holds_every_text_as_text(site):
    page = _Page()
    page.feed((site / "index.html").read_text(encoding="utf-8"))
    # The page's own tags and nothing an author wrote: one script, the cover the only image.
    assert page.tags.count("script") == 1 and page.tags.count("img") == 1
    for text in (TITLE, DESCRIPTION, CHAPTER, PHRASE):
        assert text in page.text


def test_chapters_and_transcript_json_hold_every_text(site):
    chapters = json.loads((site / "nasty.chapters.json").read_text(encoding="utf-8"))
    assert [chapter["title"] for chapter in chapters["chapters"]] == [CHAPTER]
    transcript = json.loads((site / "nasty.transcript.json").read_text(encoding="utf-8"))
    assert PHRASE in [segment["body"] for segment in transcript["segments"]]


def test_subtitles_hold_the_phrase_on_one_line(site):
    spoken = " ".join(PHRASE.split())  # the line separator is a line break in subtitles: one line
    vtt_blocks = (site / "nasty.vtt").read_text(encoding="utf-8").split("\n\n")
    vtt_texts = [html.unescape(block.split("\n", 1)[1].strip()) for block in vtt_blocks[1:]]
    assert spoken in vtt_texts
    for block in vtt_blocks[1:]:
        timing, text = block.split("\n", 1)
        assert " --> " in timing and "-->" not in text and "<" not in text
    srt_blocks = (site / "nasty.srt").read_text(encoding="utf-8").strip().split("\n\n")
    assert spoken in [block.split("\n")[2] for block in srt_blocks]
    assert all(len(block.split("\n")) == 3 for block in srt_blocks)


@pytest.mark.parametrize(
    "base_url",
    [
        'https://example.org/"><script>',
        "javascript:alert(1)",
        "https://example.org/a b",
        "example.org",
        "https://x/?a=1",
    ],
)
def test_a_base_url_that_is_not_a_folder_url_is_refused_before_anything_is_written(tone_library, tmp_path, base_url):
    episodes, texts = choose_episodes(tone_library, ("quick-squeezes",), ("en",), start_date({}))
    with make_toolchain(tone_library, tmp_path / "cache", jobs=1) as toolchain:
        with pytest.raises(DefinitionError, match=r"--base-url: .* is not an http\(s\) URL of a folder"):
            publish(episodes, texts, toolchain, tmp_path / "site", base_url)
    assert not (tmp_path / "site").exists()
