"""MPEG-2 Layer III frames at 22.05 kHz mono: split a stream, and write its Info/LAME header.

The layout follows what ffmpeg's libmp3lame encoder and mp3 muxer write (checked against
their output in the tests): one leading Info frame, then audio frames; the Info header
records the frame count, byte count, a seek table, the encoder delay and padding (so that
players trim to the exact length) and two CRC-16s.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

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


def _crc16_table() -> tuple[int, ...]:
    """Tabulate the CRC-16 (polynomial 0x8005, reflected) that the LAME tag uses, a byte at a time."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16(data: bytes, crc: int = 0) -> int:
    """Compute the CRC-16 that the LAME tag uses, continuing from crc."""
    table = _CRC16_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


class CrcJoiner:
    """Compute the CRC-16 of byte strings laid end to end from each string's CRC and size.

    The CRC is linear: crc(A + B) is crc(A) advanced over len(B) zero bytes, XOR crc(B). An
    advance is linear in the 16 CRC bits, so two 256-entry tables (for the low and the high
    byte) hold it; advances over 1, 2, 4, ... bytes are built by doing the previous one twice,
    and a string repeated n times is folded in with one advance per set bit of n.
    """

    def __init__(self) -> None:
        self._powers = [_tables([crc16(b"\0", 1 << bit) for bit in range(16)])]  # advance over 2**k bytes
        self._repeats: dict[tuple[int, int], list[tuple[_Tables, int]]] = {}

    def join(self, crc: int, block_crc: int, block_size: int, times: int = 1) -> int:
        """Return the CRC of bytes whose CRC is crc followed by `times` copies of a block."""
        if times == 1:
            return self._advance(crc, block_size) ^ block_crc
        # (advance over 2**k blocks, CRC of 2**k blocks) for k = 0, 1, 2, ...
        repeats = self._repeats.get((block_crc, block_size))
        if repeats is None:
            repeats = self._repeats[block_crc, block_size] = [(self._tables_for(block_size), block_crc)]
        bit = 0
        while times:
            if bit == len(repeats):
                tables, crc_of_copies = repeats[-1]
                repeats.append((_squared(tables), _apply(tables, crc_of_copies) ^ crc_of_copies))
            if times & 1:
                tables, crc_of_copies = repeats[bit]
                crc = _apply(tables, crc) ^ crc_of_copies
            times >>= 1
            bit += 1
        return crc

    def _advance(self, crc: int, size: int) -> int:
        bit = 0
        while size:
            if bit == len(self._powers):
                self._powers.append(_squared(self._powers[-1]))
            if size & 1:
                crc = _apply(self._powers[bit], crc)
            size >>= 1
            bit += 1
        return crc

    def _tables_for(self, size: int) -> _Tables:
        return _tables([self._advance(1 << bit, size) for bit in range(16)])


_Tables = tuple[list[int], list[int]]  # a linear map of the 16 CRC bits, by low and high input byte


def _tables(columns: list[int]) -> _Tables:
    """Tabulate the linear map whose image of bit i is columns[i]."""
    low, high = [0] * 256, [0] * 256
    for byte in range(1, 256):
        lowest = (byte & -byte).bit_length() - 1
        low[byte] = low[byte & (byte - 1)] ^ columns[lowest]
        high[byte] = high[byte & (byte - 1)] ^ columns[lowest + 8]
    return low, high


def _apply(tables: _Tables, value: int) -> int:
    low, high = tables
    return low[value & 0xFF] ^ high[value >> 8]


def _squared(tables: _Tables) -> _Tables:
    return _tables([_apply(tables, _apply(tables, 1 << bit)) for bit in range(16)])


@dataclass(frozen=True)
class FrameRun:
    """Audio frames written back to back: their bytes, each frame's size, and the CRC-16 of the bytes."""

    data: bytes
    sizes: tuple[int, ...]
    crc: int

    @classmethod
    def of(cls, frames: list[bytes]) -> FrameRun:
        """Join frames into a run."""
        data = b"".join(frames)
        return cls(data, tuple(len(frame) for frame in frames), crc16(data))


def _seek_table(info_size: int, frame_sizes: list[int], total: int) -> bytes:
    """Return the 100-entry seek table as the encoder writes it.

    The encoder samples the stream position after every p-th frame, p the smallest power of
    two that keeps fewer than _SEEK_SAMPLES samples, and reads the table off those samples.
    """
    ends = list(accumulate(frame_sizes, initial=info_size))[1:]
    every = 1
    while len(frame_sizes) // every >= _SEEK_SAMPLES:
        every *= 2
    positions = ends[every - 1 :: every][: len(frame_sizes) // every]
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
    frame_sizes = [size for run, times in layout for size in run.sizes * times]
    joiner, crc = CrcJoiner(), 0
    for run, times in layout:
        crc = joiner.join(crc, run.crc, len(run.data), times)
    size = len(frame) + sum(frame_sizes)
    padding = len(frame_sizes) * FRAME_SAMPLES - ENCODER_DELAY - total_samples
    if not 0 <= padding < 1 << 12:
        raise FrameError(f"{len(frame_sizes)} frames cannot hold {total_samples} samples")
    frame[at + 8 : at + 12] = len(frame_sizes).to_bytes(4, "big")
    frame[at + 12 : at + 16] = size.to_bytes(4, "big")
    frame[at + 16 : at + 116] = _seek_table(len(frame), frame_sizes, size)
    lame = at + _INFO_FIELDS
    frame[lame + 21 : lame + 24] = ((ENCODER_DELAY << 12) + padding).to_bytes(3, "big")
    frame[lame + 28 : lame + 32] = size.to_bytes(4, "big")
    frame[lame + 32 : lame + 34] = crc.to_bytes(2, "big")
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
