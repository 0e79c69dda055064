"""Publishing: feeds that podcast apps read, episodes with chapters and transcripts, a site."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET

import feedparser
import pytest
from mutagen.id3 import ID3

from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.ffmpeg import decode_to_samples, ffmpeg_path

from conftest import run_cli

pytestmark = pytest.mark.slow

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def site(tmp_path_factory, built):
    out = tmp_path_factory.mktemp("site")
    result = run_cli(
        "publish", "kegel-basics", "intensive", "--lang", "en", "--lang", "ko", "--base-url", BASE, "-o", str(out),
        cache=built["cache"],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(out / "en" / "feed.xml"), str(out / "ko" / "feed.xml")]
    return out


@pytest.mark.parametrize("language", ["en", "ko"])
def test_feed_parses_with_no_error_and_has_every_episode(site, language):
    parsed = feedparser.parse(str(site / language / "feed.xml"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == language
    # intensive at its defaults and at each of its 3 levels, and kegel-basics
    assert len(parsed.entries) == 5
    assert {entry.enclosures[0].type for entry in parsed.entries} == {"audio/mpeg"}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_feed_has_every_tag_podcast_apps_require(site, language):
    root = ET.parse(site / language / "feed.xml").getroot()
    channel = root.find("channel")
    for path in ["title", "description", "link", "language", "itunes:image", "itunes:category", "itunes:explicit",
                 "itunes:author", "atom:link", "podcast:guid", "podcast:locked"]:  # fmt: skip
        assert channel.find(path, NS) is not None, path
    assert channel.find("itunes:explicit", NS).text == "false"
    assert channel.find("itunes:category", NS).get("text") == "Health & Fitness"
    assert channel.find("itunes:category/itunes:category", NS).get("text") == "Fitness"
    self_link = channel.find("atom:link", NS)
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"{BASE}/{language}/feed.xml")
    expected_guid = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), f"127.0.0.1:8000/{language}/feed.xml")
    assert channel.find("podcast:guid", NS).text == str(expected_guid)
    assert len(channel.find("description").text.encode()) <= 4000
    for item in channel.findall("item"):
        for path in ["title", "description", "guid", "pubDate", "enclosure", "itunes:duration",
                     "podcast:chapters", "podcast:transcript"]:  # fmt: skip
            assert item.find(path, NS) is not None, path
        assert item.find("guid").get("isPermaLink") == "false"
        types = {t.get("type") for t in item.findall("podcast:transcript", NS)}
        assert types == {"text/vtt", "application/x-subrip", "application/json"}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_enclosures_chapters_and_transcripts_match_the_audio(site, language):
    channel = ET.parse(site / language / "feed.xml").getroot().find("channel")
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        audio = site / enclosure.get("url").removeprefix(BASE + "/")
        assert int(enclosure.get("length")) == audio.stat().st_size
        decoded = len(decode_to_samples(audio)) / SAMPLE_RATE
        assert int(item.find("itunes:duration", NS).text) == round(decoded)
        chapters = json.loads(
            (site / item.find("podcast:chapters", NS).get("url").removeprefix(BASE + "/")).read_text()
        )
        assert chapters["version"] == "1.2.0"
        tags = ID3(audio)
        toc = tags.getall("CTOC")[0]
        id3_chapters = [tags[f"CHAP:{element}"] for element in toc.child_element_ids]
        assert [c["title"] for c in chapters["chapters"]] == [c.sub_frames["TIT2"].text[0] for c in id3_chapters]
        assert [round(c["startTime"] * 1000) for c in chapters["chapters"]] == [c.start_time for c in id3_chapters]
        program, _, level = audio.stem.partition("-") if audio.stem.startswith("intensive") else (audio.stem, "", "")
        shown = run_cli("show", program, "--lang", language, "--format", "json", *(["--level", level] if level else []))
        script = json.loads(shown.stdout)
        transcript = json.loads((audio.parent / f"{audio.stem}.transcript.json").read_text(encoding="utf-8"))
        assert transcript["segments"][0]["startTime"] == script["cues"][0]["start"]
        assert transcript["segments"][-1]["endTime"] == script["cues"][-1]["end"]
        assert len(transcript["segments"]) == len(script["cues"])
        vtt = (audio.parent / f"{audio.stem}.vtt").read_text(encoding="utf-8")
        assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(script["cues"])


def test_guids_and_dates_are_stable_and_follow_source_date_epoch(site, built, tmp_path):
    env_epoch = dict(os.environ, SOURCE_DATE_EPOCH="1800000000")
    again = tmp_path / "again"
    result = run_cli(
        "publish", "kegel-basics", "--lang", "en", "--base-url", BASE, "-o", str(again), cache=built["cache"]
    )
    assert result.returncode == 0, result.stderr
    first = {e.title: e for e in feedparser.parse(str(site / "en" / "feed.xml")).entries}
    second = {e.title: e for e in feedparser.parse(str(again / "en" / "feed.xml")).entries}
    assert second["Kegel basics"].id == first["Kegel basics"].id
    assert second["Kegel basics"].published == first["Kegel basics"].published == "Mon, 05 Jan 2026 06:00:00 +0000"
    dated = tmp_path / "dated"
    command = [
        sys.executable,
        "-m",
        "pelvicvoice",
        "publish",
        "kegel-basics",
        "--lang",
        "en",
        "--base-url",
        BASE,
        "-o",
        str(dated),
    ]
    process = subprocess.run(
        command, env={**env_epoch, "PELVICVOICE_CACHE": str(built["cache"])}, capture_output=True, text=True
    )
    assert process.returncode == 0, process.stderr
    entry = feedparser.parse(str(dated / "en" / "feed.xml")).entries[0]
    assert entry.published == "Fri, 15 Jan 2027 08:00:00 +0000"
    assert entry.id == first["Kegel basics"].id


def test_plan_publishes_each_distinct_session_in_the_week_it_starts(built, tmp_path):
    result = run_cli(
        "publish", "first-six-months", "--lang", "en", "--base-url", BASE, "-o", str(tmp_path), cache=built["cache"]
    )
    assert result.returncode == 0, result.stderr
    entries = feedparser.parse(str(tmp_path / "en" / "feed.xml")).entries
    links = [entry.link.split("#")[1] for entry in entries]
    assert links[:2] == ["find-your-pelvic-floor", "kegel-basics-reps8"]
    assert "intensive-gentle" in links and "maintenance" in links
    dates = {entry.link.split("#")[1]: entry.published for entry in entries}
    assert dates["kegel-basics-reps8"].startswith("Mon, 05 Jan 2026")
    assert dates["maintenance"].startswith("Mon, 17 Aug 2026")  # week 33
    site_page = (tmp_path / "en" / "index.html").read_text(encoding="utf-8")
    assert site_page.count("<audio") == len(entries) and "data-start" in site_page


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_episode_is_at_podcast_loudness(site, language):
    """-16 LUFS integrated (+-1) measured as dual-mono, true peak at most -1 dBTP, on the final MP3."""
    for audio in sorted((site / language).glob("*.mp3")):
        command = [
            ffmpeg_path(),
            "-nostats",
            "-i",
            str(audio),
            "-af",
            "ebur128=peak=true:dualmono=true",
            "-f",
            "null",
            "-",
        ]
        report = subprocess.run(command, capture_output=True, text=True).stderr
        integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", report)[-1])
        peak = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", report)[-1])
        assert abs(integrated + 16) <= 1, (audio.name, integrated)
        assert peak <= -1.0, (audio.name, peak)


def test_publishing_again_reuses_every_episode_and_a_change_renders_only_its_own(built, tmp_path):
    program = tmp_path / "mine.yaml"
    text = """\
id: mine
title: {en: Mine}
description: {en: A short program of my own.}
source: a physiotherapist
phrases: {en: {go: "Squeeze gently, and hold."}}
sections:
  - title: {en: One}
    steps:
      - say: safety
      - hold: 4
        say: go
      - say: well_done
"""
    program.write_text(text, encoding="utf-8")
    out = tmp_path / "site"
    arguments = ("publish", "kegel-basics", str(program), "--lang", "en", "--base-url", BASE, "-o", str(out))
    first = run_cli(*arguments, cache=built["cache"])
    assert first.returncode == 0, first.stderr
    assert "2 episodes written, 0 reused" in first.stderr
    stamps = {path.name: path.stat().st_mtime_ns for path in (out / "en").glob("*.mp3")}
    every_file = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    again = run_cli(*arguments, cache=built["cache"])
    assert "0 episodes written, 2 reused" in again.stderr
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()} == every_file
    program.write_text(text.replace("Squeeze gently", "Squeeze softly"), encoding="utf-8")
    changed = run_cli(*arguments, cache=built["cache"])
    assert "1 episodes written, 1 reused" in changed.stderr
    after = {path.name: path.stat().st_mtime_ns for path in (out / "en").glob("*.mp3")}
    assert after["kegel-basics.mp3"] == stamps["kegel-basics.mp3"]
    assert after["mine.mp3"] != stamps["mine.mp3"]
    assert "Squeeze softly" in (out / "en" / "mine.vtt").read_text(encoding="utf-8")


def test_korean_page_is_in_korean(site):
    page = (site / "ko" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page and "<summary>대본</summary>" in page and "Transcript" not in page
    assert "케겔 기초 운동" in page
