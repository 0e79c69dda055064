"""MPEG-2 Layer III frames at 22.05 kHz mono: split a stream, and write its Info/LAME header.

The layout follows what ffmpeg's libmp3lame encoder and mp3 muxer write (checked against
their output in the tests): one leading Info frame, then audio frames; the Info header
records the frame count, byte count, a seek table, the encoder delay and padding (so that
players trim to the exact length) and two CRC-16s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pelvicvoice.model import FRAME_SAMPLES, SAMPLE_RATE

# libmp3lame through ffmpeg: samples of delay before the first input sample, as its header says.
ENCODER_DELAY = 576
# Where an input sample lands in the decoded frame stream: the encoder delay plus the
# decoder's own delay of 529 samples.
STREAM_OFFSET = ENCODER_DELAY + 529
_MPEG2_BITRATES_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_INFO_FIELDS = 4 + 4 + 4 + 4 + 100 + 4  # tag, flags, frames, bytes, seek table, quality
_TAG_CRC_SPAN = 190
_SEEK_SAMPLES = 400


class FrameError(ValueError):
    """The data is not a stream of MPEG-2 Layer III frames as pelvicvoice writes them."""


def split_frames(data: bytes) -> list[bytes]:
    """Split an MP3 stream (no ID3 tag) into its frames."""
    frames, position = [], 0
    while position < len(data):
        size = _frame_size(data, position)
        frames.append(data[position : position + size])
        position += size
    return frames


def _frame_size(data: bytes, position: int) -> int:
    """Return the size of the frame that starts at position, checking it fits."""
    if position + 4 > len(data):
        raise FrameError(f"truncated frame header at byte {position}")
    header = int.from_bytes(data[position : position + 4], "big")
    if header >> 21 != 0x7FF or (header >> 19) & 3 != 2 or (header >> 17) & 3 != 1:
        raise FrameError(f"no MPEG-2 Layer III frame at byte {position}")
    bitrate = _MPEG2_BITRATES_KBPS[(header >> 12) & 15] * 1000
    size = 72 * bitrate // SAMPLE_RATE + ((header >> 9) & 1)
    if size <= 4 or position + size > len(data):
        raise FrameError(f"frame at byte {position} runs past the end")
    return size


def audio_frame_count(total_samples: int) -> int:
    """Return how many audio frames the encoder writes for a session of total_samples."""
    return -(-(total_samples + ENCODER_DELAY) // FRAME_SAMPLES) + 1


def crc16(data: bytes, crc: int = 0) -> int:
    """Compute the CRC-16 (polynomial 0x8005, reflected) that the LAME tag uses."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _crc16_table() -> np.ndarray:
    return np.array([crc16(bytes([byte])) for byte in range(256)], dtype=np.uint16)


def crc16_each(chunks: list[bytes]) -> list[int]:
    """Compute crc16 of many byte strings at once, one byte position across all of them."""
    table = _crc16_table()
    results = [0] * len(chunks)
    by_length: dict[int, list[int]] = {}
    for index, chunk in enumerate(chunks):
        by_length.setdefault(len(chunk), []).append(index)
    for length, indexes in by_length.items():
        data = np.frombuffer(b"".join(chunks[i] for i in indexes), dtype=np.uint8).reshape(len(indexes), length)
        crc = np.zeros(len(indexes), dtype=np.uint16)
        for column in range(length):
            crc = (crc >> 8) ^ table[(crc ^ data[:, column]) & 0xFF]
        for index, value in zip(indexes, crc.tolist(), strict=True):
            results[index] = value
    return results


def joined_crcs(crcs: Sequence[int], sizes: Sequence[int], starts: Sequence[int]) -> list[int]:
    """Return the CRC-16 of each segment of byte strings joined end to end, from their CRCs and sizes.

    Segments begin at the indexes in starts. The CRC is linear: crc(A + B) equals crc(A)
    advanced over len(B) zero bytes, XOR crc(B). So a segment's CRC is the XOR of its strings'
    CRCs, each advanced over the bytes after it in the segment: one table lookup per set bit of
    that count, done for every string at once.
    """
    ends = np.cumsum(np.asarray(sizes, dtype=np.int64))
    segment_ends = ends[np.append(np.asarray(starts[1:], dtype=np.int64), len(ends)) - 1]
    after = np.repeat(segment_ends, np.diff(np.append(np.asarray(starts, dtype=np.int64), len(ends)))) - ends
    values = np.asarray(crcs, dtype=np.int64)
    for bit, (low, high) in enumerate(_zero_byte_advances(int(after.max(initial=0)).bit_length())):
        values = np.where(after >> bit & 1 == 1, low[values & 0xFF] ^ high[values >> 8], values)
    return np.bitwise_xor.reduceat(values, np.asarray(starts, dtype=np.int64)).tolist() if len(values) else []


def _zero_byte_advances(count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return lookup tables that advance a CRC over 1, 2, 4, ... 2**(count-1) zero bytes.

    Each advance is linear in the 16 CRC bits, so two 256-entry tables (low and high byte of
    the CRC) hold it; the advance over 2n bytes is the advance over n bytes done twice.
    """
    columns = np.array([crc16(b"\0", 1 << bit) for bit in range(16)], dtype=np.int64)
    advances = []
    for _ in range(count):
        tables = _byte_tables(columns)
        advances.append(tables)
        basis = _advance(tables, 1 << np.arange(16, dtype=np.int64))
        columns = _advance(tables, basis)
    return advances


def _byte_tables(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tabulate the linear map with these 16 columns for the low and the high byte of its input."""
    byte = np.arange(256, dtype=np.int64)
    low, high = np.zeros(256, dtype=np.int64), np.zeros(256, dtype=np.int64)
    for bit in range(8):
        chosen = byte >> bit & 1 == 1
        low ^= np.where(chosen, columns[bit], 0)
        high ^= np.where(chosen, columns[bit + 8], 0)
    return low, high


def _advance(tables: tuple[np.ndarray, np.ndarray], values: np.ndarray) -> np.ndarray:
    low, high = tables
    return low[values & 0xFF] ^ high[values >> 8]


@dataclass(frozen=True)
class FrameRun:
    """Audio frames written back to back: their bytes, each frame's size, and the CRC-16 of the bytes."""

    data: bytes
    sizes: tuple[int, ...]
    crc: int


def frame_runs(frame_lists: list[list[bytes]]) -> list[FrameRun]:
    """Join each (non-empty) list of frames into a run, computing all their CRCs at once."""
    frames = [frame for frames in frame_lists for frame in frames]
    starts = np.cumsum([0] + [len(frames) for frames in frame_lists[:-1]]).tolist()
    crcs = joined_crcs(crc16_each(frames), [len(frame) for frame in frames], starts) if frames else []
    return [
        FrameRun(b"".join(frames), tuple(len(frame) for frame in frames), crc)
        for frames, crc in zip(frame_lists, crcs, strict=True)
    ]


def _seek_table(info_size: int, frame_sizes: list[int], total: int) -> bytes:
    """Return the 100-entry seek table as the encoder writes it.

    The encoder samples the stream position after every p-th frame, p the smallest power of
    two that keeps fewer than _SEEK_SAMPLES samples, and reads the table off those samples.
    """
    ends = info_size + np.cumsum(np.array(frame_sizes, dtype=np.int64))
    every = 1
    while len(frame_sizes) // every >= _SEEK_SAMPLES:
        every *= 2
    positions = ends[every - 1 :: every][: len(frame_sizes) // every].tolist()
    count = len(positions)
    return bytes([0] + [min(255, 256 * positions[i * count // 100] // total) for i in range(1, 100)])


@dataclass(frozen=True)
class InfoTemplate:
    """An Info frame written by the encoder, whose fixed parts are reused for any length."""

    frame: bytes
    offset: int  # where "Info" starts in the frame

    @classmethod
    def from_frame(cls, frame: bytes) -> InfoTemplate:
        """Wrap the first frame of an encoder's output; it must hold an Info tag."""
        offset = frame.find(b"Info")
        if offset < 0 or offset + _INFO_FIELDS + 36 > len(frame):
            raise FrameError("the first frame holds no Info/LAME tag")
        return cls(frame, offset)


def info_frame(template: InfoTemplate, layout: list[tuple[FrameRun, int]], total_samples: int) -> bytes:
    """Write the Info frame for audio laid out as (run, times repeated), holding total_samples of audio."""
    frame = bytearray(template.frame)
    at = template.offset
    crcs = [run.crc for run, times in layout for _ in range(times)]
    run_sizes = [len(run.data) for run, times in layout for _ in range(times)]
    frame_sizes = [size for run, times in layout for size in run.sizes * times]
    size = len(frame) + sum(run_sizes)
    padding = len(frame_sizes) * FRAME_SAMPLES - ENCODER_DELAY - total_samples
    if not 0 <= padding < 1 << 12:
        raise FrameError(f"{len(frame_sizes)} frames cannot hold {total_samples} samples")
    frame[at + 8 : at + 12] = len(frame_sizes).to_bytes(4, "big")
    frame[at + 12 : at + 16] = size.to_bytes(4, "big")
    frame[at + 16 : at + 116] = _seek_table(len(frame), frame_sizes, size)
    lame = at + _INFO_FIELDS
    frame[lame + 21 : lame + 24] = ((ENCODER_DELAY << 12) + padding).to_bytes(3, "big")
    frame[lame + 28 : lame + 32] = size.to_bytes(4, "big")
    frame[lame + 32 : lame + 34] = joined_crcs(crcs, run_sizes, [0])[0].to_bytes(2, "big") if crcs else b"\0\0"
    frame[lame + 34 : lame + 36] = b"\0\0"
    frame[lame + 34 : lame + 36] = crc16(bytes(frame[:_TAG_CRC_SPAN])).to_bytes(2, "big")
    return bytes(frame)


def decoded_samples(stream: bytes) -> int:
    """Return how many samples an MP3 (without ID3 tag) decodes to, from its Info header."""
    info = stream[: _frame_size(stream, 0)]  # the Info frame is all it takes
    at = InfoTemplate.from_frame(info).offset
    count = int.from_bytes(info[at + 8 : at + 12], "big")
    lame = at + _INFO_FIELDS
    delay_padding = int.from_bytes(info[lame + 21 : lame + 24], "big")
    return count * FRAME_SAMPLES - (delay_padding >> 12) - (delay_padding & 0xFFF)
