"""The cache folder: entries written through the output layer and read back only when their checksum holds."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pelvicvoice.output import atomic_file

# Every entry ends with this marker and the SHA-256 of what precedes it.
_FOOTER = b"pelvicvoice-sha256"
_DIGEST_SIZE = 32


def default_cache_dir() -> Path:
    """Return the user cache folder: $PELVICVOICE_CACHE, else $XDG_CACHE_HOME/pelvicvoice."""
    if os.environ.get("PELVICVOICE_CACHE"):
        return Path(os.environ["PELVICVOICE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pelvicvoice"


def write_entry(path: Path, payload: bytes) -> None:
    """Write payload and its checksum atomically.

    Two builds may write the same entry at once: whichever rename lands last, both are whole.
    """
    with atomic_file(path) as file:
        file.write(payload + _FOOTER + hashlib.sha256(payload).digest())


def read_entry(path: Path) -> bytes | None:
    """Return an entry's payload, or None when it is missing, cut short or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    payload_size = len(data) - len(_FOOTER) - _DIGEST_SIZE
    if payload_size < 0 or data[payload_size : payload_size + len(_FOOTER)] != _FOOTER:
        return None
    payload = data[:payload_size]
    if hashlib.sha256(payload).digest() != data[payload_size + len(_FOOTER) :]:
        return None
    return payload
