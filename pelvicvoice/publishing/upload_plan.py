"""What an upload of a published folder must do: the puts in the order they are safe in, then the deletes.

Pure: it reads the local files and is given the store's listing; nothing here talks to a store.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pelvicvoice.errors import DefinitionError, Location, OutputError
from pelvicvoice.publishing.serve import content_type

_BUCKET = re.compile(r"[A-Za-z0-9._-]{3,255}")
# Feeds, then calendars, then pages (which link to both), the site's index at the very end.
_LAST = {".xml": 1, ".ics": 2, ".html": 3}
_SHORT = "public, max-age=300"  # feeds, calendars and pages: a new episode shows within 5 minutes
# An episode keeps its name when its program changes, so its files may be cached an hour, never forever.
_EPISODE = "public, max-age=3600"


@dataclass(frozen=True)
class Destination:
    """A bucket and the key prefix the site goes under ('' for the bucket's top)."""

    bucket: str
    prefix: str

    def url(self, key: str = "") -> str:
        """Name an object, or with no key the destination itself (as a user writes it, with no / at the end)."""
        return f"s3://{self.bucket}/{self.prefix}{key}" if key else f"s3://{self.bucket}/{self.prefix}".rstrip("/")


@dataclass(frozen=True)
class LocalFile:
    """A file of the published folder, by its key relative to the destination."""

    key: str
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class RemoteObject:
    """An object under the prefix as the store describes it; sha256 None when not looked at or not ours."""

    key: str
    size: int
    sha256: str | None = None
    content_type: str | None = None
    cache_control: str | None = None


@dataclass(frozen=True)
class Put:
    """Write a file to its key with these headers, and why."""

    file: LocalFile
    content_type: str
    cache_control: str
    reason: str  # new, changed or headers


@dataclass(frozen=True)
class UploadPlan:
    """The puts in the order they must be made, then the deletes, and how many objects are already right."""

    puts: tuple[Put, ...]
    deletes: tuple[str, ...]
    unchanged: int


def parse_destination(text: str) -> Destination:
    """Read s3://BUCKET/PREFIX; the prefix always ends in / unless it is empty."""
    parts = urlsplit(text)
    if parts.scheme != "s3" or not _BUCKET.fullmatch(parts.netloc) or parts.query or parts.fragment:
        raise DefinitionError.at(Location(text), "not an object storage address; write s3://BUCKET/PREFIX")
    prefix = parts.path.strip("/")
    return Destination(parts.netloc, f"{prefix}/" if prefix else "")


def object_headers(key: str) -> tuple[str, str]:
    """Return the Content-Type and Cache-Control an object of the site is stored with."""
    return content_type(key), _SHORT if Path(key).suffix.lower() in _LAST else _EPISODE


def is_site_key(key: str) -> bool:
    """Tell whether a relative key can be part of a site: hidden names (the manifest, temporaries) never are."""
    return bool(key) and not key.endswith("/") and not any(part.startswith(".") for part in key.split("/"))


def local_files(site_dir: Path) -> list[LocalFile]:
    """Hash every file of a published folder but the hidden ones (publish's manifest, temporary files)."""
    if not site_dir.is_dir():
        raise OutputError.at(Location(str(site_dir)), "no such folder; publish first, or give the folder to upload")
    found = []
    for path in sorted(site_dir.rglob("*")):
        key = path.relative_to(site_dir).as_posix()
        if path.is_file() and is_site_key(key):
            found.append(LocalFile(key, path, path.stat().st_size, _sha256(path)))
    if not found:
        raise OutputError.at(Location(str(site_dir)), "nothing to upload here; publish into this folder first")
    return found


def plan_upload(local: Iterable[LocalFile], remote: Mapping[str, RemoteObject], delete: bool) -> UploadPlan:
    """Put what is new or changed (by content hash, then headers), media first; delete what is gone, if asked."""
    puts, unchanged = [], 0
    for file in local:
        headers = object_headers(file.key)
        there = remote.get(file.key)
        if there is None:
            reason = "new"
        elif there.size != file.size or there.sha256 != file.sha256:
            reason = "changed"
        elif (there.content_type, there.cache_control) != headers:
            reason = "headers"
        else:
            unchanged += 1
            continue
        puts.append(Put(file, *headers, reason))
    keys = {file.key for file in local}
    deletes = tuple(sorted(key for key in remote if key not in keys)) if delete else ()
    return UploadPlan(tuple(sorted(puts, key=lambda put: (*phase(put.file.key), put.file.key))), deletes, unchanged)


def phase(key: str) -> tuple[int, int]:
    """Order of writing: media and sidecars, feeds, calendars, then pages deepest first."""
    rank = _LAST.get(Path(key).suffix.lower(), 0)
    return rank, -key.count("/") if rank == _LAST[".html"] else 0


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
