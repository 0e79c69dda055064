"""Podcast feeds as plain objects, serialized to RSS 2.0 with itunes and Podcasting 2.0 tags."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
# The Podcasting 2.0 namespace's own UUID for podcast:guid (uuid5 of the feed URL).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
_PREFIXES = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM}


def podcast_guid(feed_url: str) -> str:
    """Return podcast:guid as the namespace defines it: uuid5 of the URL without scheme and trailing slash."""
    address = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, address))


@dataclass(frozen=True)
class Transcript:
    """A transcript file of an episode."""

    url: str
    mime_type: str


@dataclass(frozen=True)
class Episode:
    """One item of a feed."""

    title: str
    description: str
    guid: str
    published: datetime
    audio_url: str
    audio_bytes: int
    duration_seconds: int
    chapters_url: str
    transcripts: tuple[Transcript, ...]
    page_url: str


@dataclass(frozen=True)
class Feed:
    """One podcast feed: a language of the library or plan."""

    title: str
    description: str
    language: str
    url: str
    site_url: str
    image_url: str
    author: str
    episodes: tuple[Episode, ...] = field(default_factory=tuple)
    category: str = "Health & Fitness"
    subcategory: str = "Fitness"


def feed_xml(feed: Feed) -> bytes:
    """Serialize a feed as RSS 2.0 bytes."""
    # Prefixed names and the namespace declarations written out, rather than ElementTree's
    # namespace registry, which is process-wide state.
    declarations = {f"xmlns:{prefix}": uri for prefix, uri in sorted(_PREFIXES.items())}
    rss = ET.Element("rss", {**declarations, "version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", feed.title)
    _text(channel, "description", feed.description)
    _text(channel, "link", feed.site_url)
    _text(channel, "language", feed.language)
    ET.SubElement(channel, "atom:link", {"href": feed.url, "rel": "self", "type": "application/rss+xml"})
    _text(channel, "itunes:author", feed.author)
    _text(channel, "itunes:summary", feed.description)
    ET.SubElement(channel, "itunes:image", {"href": feed.image_url})
    category = ET.SubElement(channel, "itunes:category", {"text": feed.category})
    ET.SubElement(category, "itunes:category", {"text": feed.subcategory})
    _text(channel, "itunes:explicit", "false")
    _text(channel, "itunes:type", "episodic")
    _text(channel, "podcast:guid", podcast_guid(feed.url))
    _text(channel, "podcast:locked", "no")
    for episode in feed.episodes:
        item = ET.SubElement(channel, "item")
        _text(item, "title", episode.title)
        _text(item, "description", episode.description)
        _text(item, "link", episode.page_url)
        _text(item, "guid", episode.guid, {"isPermaLink": "false"})
        _text(item, "pubDate", format_datetime(episode.published))
        ET.SubElement(
            item, "enclosure", {"url": episode.audio_url, "length": str(episode.audio_bytes), "type": "audio/mpeg"}
        )
        _text(item, "itunes:duration", str(episode.duration_seconds))
        _text(item, "itunes:explicit", "false")
        ET.SubElement(item, "podcast:chapters", {"url": episode.chapters_url, "type": "application/json+chapters"})
        for transcript in episode.transcripts:
            ET.SubElement(
                item,
                "podcast:transcript",
                {"url": transcript.url, "type": transcript.mime_type, "language": feed.language, "rel": "captions"},
            )
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"


def _text(parent: ET.Element, tag: str, text: str, attributes: dict[str, str] | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes or {})
    element.text = text
    return element
