"""MPEG-2 Layer III frames at 22.05 kHz mono: split a stream, and write its Info/LAME header.

The layout follows what ffmpeg's libmp3lame encoder and mp3 muxer write (checked against
their output in the tests): one leading Info frame, then audio frames; the Info header
records the frame count, byte count, a seek table, the encoder delay and padding (so that
players trim to the exact length) and two CRC-16s.
"""

from __future__ import annotations

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


class StreamCrc:
    """CRC-16 of a long stream made of few distinct frames, without reading every byte.

    The CRC is linear: crc(A + B) = advance(crc(A), len(B)) ^ crc(B), where advance feeds
    zero bytes and is a 16x16 bit matrix. A run of k equal frames is folded in at once:
    the run's (advance, crc) is built by doubling, like a power.
    """

    def __init__(self, frames: list[bytes]):
        distinct = list(dict.fromkeys(frames))
        crcs = dict(zip(distinct, crc16_each(distinct), strict=True))
        one_byte = tuple(crc16(b"\0", 1 << bit) for bit in range(16))
        advance = {length: _power(one_byte, length) for length in {len(frame) for frame in distinct}}
        doublings: dict[bytes, list[tuple[tuple[int, ...], int]]] = {}
        self.value = 0
        self.size = 0
        index = 0
        while index < len(frames):
            frame = frames[index]
            run = 1
            while index + run < len(frames) and frames[index + run] is frame:
                run += 1
            if run == 1:
                self.value = _apply(advance[len(frame)], self.value) ^ crcs[frame]
            else:
                if frame not in doublings:
                    doublings[frame] = _doublings(advance[len(frame)], crcs[frame], len(frames))
                # Equal blocks commute: fold in 2**k copies for every bit k of the run.
                for bit, (matrix, crc) in enumerate(doublings[frame]):
                    if run >> bit & 1:
                        self.value = _apply(matrix, self.value) ^ crc
            self.size += len(frame) * run
            index += run


def _doublings(matrix: tuple[int, ...], crc: int, most: int) -> list[tuple[tuple[int, ...], int]]:
    """Return (advance, crc) of 1, 2, 4, ... copies of a block, up to `most` copies."""
    table = [(matrix, crc)]
    while 1 << len(table) <= most:
        matrix, crc = table[-1]
        table.append((_compose(matrix, matrix), _apply(matrix, crc) ^ crc))
    return table


def _compose(first: tuple[int, ...], then: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_apply(then, column) for column in first)


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


def _apply(matrix: tuple[int, ...], vector: int) -> int:
    result = 0
    for bit, column in enumerate(matrix):
        if vector >> bit & 1:
            result ^= column
    return result


def _power(matrix: tuple[int, ...], exponent: int) -> tuple[int, ...]:
    result = tuple(1 << bit for bit in range(16))
    while exponent:
        if exponent & 1:
            result = tuple(_apply(matrix, column) for column in result)
        matrix = tuple(_apply(matrix, column) for column in matrix)
        exponent >>= 1
    return result


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


def info_frame(template: InfoTemplate, audio_frames: list[bytes], total_samples: int) -> bytes:
    """Write the Info frame for these audio frames holding total_samples of audio."""
    frame = bytearray(template.frame)
    at = template.offset
    crc = StreamCrc(audio_frames)
    size = len(frame) + crc.size
    padding = len(audio_frames) * FRAME_SAMPLES - ENCODER_DELAY - total_samples
    if not 0 <= padding < 1 << 12:
        raise FrameError(f"{len(audio_frames)} frames cannot hold {total_samples} samples")
    frame[at + 8 : at + 12] = len(audio_frames).to_bytes(4, "big")
    frame[at + 12 : at + 16] = size.to_bytes(4, "big")
    frame[at + 16 : at + 116] = _seek_table(len(frame), [len(audio) for audio in audio_frames], size)
    lame = at + _INFO_FIELDS
    frame[lame + 21 : lame + 24] = ((ENCODER_DELAY << 12) + padding).to_bytes(3, "big")
    frame[lame + 28 : lame + 32] = size.to_bytes(4, "big")
    frame[lame + 32 : lame + 34] = crc.value.to_bytes(2, "big")
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
