"""The ffmpeg edge: the static ffmpeg bundled by imageio-ffmpeg (or the one $IMAGEIO_FFMPEG_EXE names)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.errors import Location, OutputError
from pelvicvoice.installed import distribution_version
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.frames import split_frames

# An hour-long session decodes in seconds; a file that takes longer is stuck, not long.
DECODE_TIMEOUT_SECONDS = 120

if TYPE_CHECKING:
    import numpy as np

MP3_BITRATE = "64k"


def ffmpeg_path() -> str:
    """Return the path of the bundled ffmpeg executable."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def mp3_encode_command(source: str, target: Path, bitrate: str = MP3_BITRATE) -> list[str]:
    """Return the ffmpeg command that encodes raw s16le PCM from source (a file or pipe:0)."""
    quiet = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    return [ffmpeg_path(), *quiet, *_mp3_arguments(bitrate, source), str(target)]


def _mp3_arguments(bitrate: str, source: str = "pipe:0") -> list[str]:
    """Encoder settings shared by whole-timeline and chunk encodes: CBR, no bit reservoir."""
    return [
        "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", source,
        "-c:a", "libmp3lame", "-b:a", bitrate, "-reservoir", "0",
        "-write_xing", "1", "-id3v2_version", "0", "-write_id3v1", "0", "-map_metadata", "-1",
        "-f", "mp3",
    ]  # fmt: skip


def encoder_identity(bitrate: str = MP3_BITRATE) -> str:
    """Name the encoder and its settings (part of the frame cache keys), without starting it.

    imageio-ffmpeg runs the binary named by $IMAGEIO_FFMPEG_EXE instead of its own when that
    is set, so the name is part of the identity too.
    """
    binary = os.environ.get("IMAGEIO_FFMPEG_EXE", "bundled")
    return f"imageio-ffmpeg {distribution_version('imageio-ffmpeg')} {binary} {' '.join(_mp3_arguments(bitrate))}"


def encode_frames(pcm: bytes, bitrate: str = MP3_BITRATE) -> list[bytes]:
    """Encode a short chunk of s16le PCM; return its MP3 frames, the Info frame first."""
    with tempfile.TemporaryDirectory(prefix="pelvicvoice-chunk-") as folder:
        target = Path(folder) / "chunk.mp3"
        encode_mp3([pcm], target, bitrate)
        return split_frames(target.read_bytes())


def encode_mp3(blocks: Iterable[bytes], target: Path, bitrate: str = MP3_BITRATE) -> None:
    """Encode s16le mono PCM blocks to a CBR MP3 file with an Info/LAME header.

    target must be a regular (seekable) file: ffmpeg writes the header, with the exact
    length and encoder delay, only when it can seek back to the start.
    """
    command = mp3_encode_command("pipe:0", target, bitrate)
    # stderr goes to a file: a pipe nobody reads while we write stdin could fill and block.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors)
        assert process.stdin is not None
        try:
            for block in blocks:
                process.stdin.write(block)
        except BrokenPipeError:
            pass
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass
            process.wait()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace").strip()
    if process.returncode != 0:
        last_line = stderr.splitlines()[-1] if stderr else f"exit status {process.returncode}"
        raise OutputError.at(Location(str(target)), f"ffmpeg could not write the MP3: {last_line}")


def decode_to_samples(source: Path, longest_seconds: float | None = None) -> np.ndarray:
    """Decode any audio file to int16 mono samples at SAMPLE_RATE, resampled like synthesized speech (soxr).

    With longest_seconds, decoding stops there: a header may claim hours (a rate of 1 Hz), and
    the samples would not fit in memory.
    """
    import numpy as np  # here, not at the top: a warm build runs ffmpeg not at all, and numpy is slow to import

    most = ["-t", f"{longest_seconds:g}"] if longest_seconds is not None else []
    command = [
        ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(source), *most,
        "-af", "aresample=resampler=soxr", "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, timeout=DECODE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise OutputError.at(
            Location(str(source)), f"cannot decode audio: ffmpeg took more than {DECODE_TIMEOUT_SECONDS} s"
        ) from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise OutputError.at(
            Location(str(source)), f"cannot decode audio: {message[-1] if message else 'ffmpeg failed'}"
        )
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.int16)


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample int16 mono samples with ffmpeg's soxr resampler."""
    import numpy as np

    command = [
        ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-f", "s16le", "-ar", str(source_rate), "-ac", "1", "-i", "pipe:0",
        "-af", "aresample=resampler=soxr", "-f", "s16le", "-ar", str(target_rate), "pipe:1",
    ]  # fmt: skip
    result = subprocess.run(command, input=samples.astype("<i2").tobytes(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not resample: {result.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.int16)
