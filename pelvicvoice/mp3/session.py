"""Render a session as a tagged MP3 into any binary stream: a file, a response, an upload."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from pelvicvoice.model import Clip, CueScript
from pelvicvoice.mp3.ffmpeg import encode_mp3
from pelvicvoice.mp3.splice import ChunkCounts, ChunkEncoder, write_spliced
from pelvicvoice.mp3.tags import id3_tag, session_tags


def write_mp3(stream: BinaryIO, script: CueScript, clips: dict[str, Clip], encoder: ChunkEncoder | None) -> ChunkCounts:
    """Write the ID3 tag, then the audio: spliced from cached frames where it can, else a whole encode."""
    stream.write(id3_tag(session_tags(script)))
    if encoder is not None:
        # Spliced frames go straight to the stream: the Info header is computed, not sought back to.
        counts = write_spliced(stream, script, clips, encoder)
        if counts is not None:
            return counts
    from pelvicvoice.audio.render import render_blocks  # numpy: only for what cannot be spliced

    # ffmpeg writes the Info header by seeking back to the start of a file of its own.
    with tempfile.TemporaryDirectory(prefix="pelvicvoice-encode-") as folder:
        encoded = Path(folder) / "session.mp3"
        encode_mp3(render_blocks(script, clips), encoded)
        with encoded.open("rb") as audio:
            shutil.copyfileobj(audio, stream)
    return ChunkCounts()
