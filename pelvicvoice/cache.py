"""Cache files written atomically and read back only when their checksum holds."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# Every entry ends with this marker and the SHA-256 of what precedes it.
_FOOTER = b"pelvicvoice-sha256"
_DIGEST_SIZE = 32


def write_entry(path: Path, payload: bytes) -> None:
    """Write payload and its checksum to a temporary file, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload + _FOOTER + hashlib.sha256(payload).digest())
        # Two builds may write the same entry at once: whichever rename lands last, both are whole.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
