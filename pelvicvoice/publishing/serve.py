"""Serve a published folder over HTTP with HEAD and byte ranges, as podcast apps need."""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pelvicvoice.errors import Location, OutputError

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {
    ".mp3": "audio/mpeg",
    ".xml": "application/rss+xml; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".ics": "text/calendar; charset=utf-8",
}


def content_type(path: str | os.PathLike[str]) -> str:
    """Return the Content-Type a published file is served with."""
    return _TYPES.get(Path(path).suffix.lower()) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the (first, last) bytes a single-range Range header asks for, or None for all.

    Raises ValueError when the range cannot be satisfied.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # a form we do not serve partially (e.g. several ranges): send it all
    first_text, last_text = match.groups()
    if first_text == "":  # the last N bytes
        length = int(last_text)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise ValueError("range outside the file")
    return first, last


class _Handler(SimpleHTTPRequestHandler):
    """Static files with Accept-Ranges, 206 Partial Content and podcast MIME types."""

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return content_type(path)

    def send_head(self):  # noqa: ANN201 - the base class's own protocol
        self._remaining = None
        path = Path(self.translate_path(self.path))
        if path.is_dir() or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        try:
            wanted = byte_range(self.headers.get("Range"), size)
        except ValueError:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        file = path.open("rb")
        first, last = wanted if wanted else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if wanted else HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(last - first + 1 if size else 0))
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        file.seek(first)
        self._remaining = last - first + 1 if size else 0
        return file

    def copyfile(self, source, outputfile) -> None:  # noqa: ANN001 - the base class's own protocol
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            shutil.copyfileobj(source, outputfile)
            return
        while remaining > 0:
            block = source.read(min(64 * 1024, remaining))
            if not block:
                break
            outputfile.write(block)
            remaining -= len(block)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


def make_server(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    """Make (but do not start) a server for folder on host:port; port 0 picks a free one."""
    if not folder.is_dir():
        raise OutputError.at(Location(str(folder)), "no such folder; publish first or give the folder to serve")
    try:
        return ThreadingHTTPServer((host, port), partial(_Handler, directory=str(folder)))
    except OSError as error:
        raise OutputError.at(
            Location(f"{host}:{port}"), f"cannot listen here: {error.strerror}; try another --port"
        ) from None
