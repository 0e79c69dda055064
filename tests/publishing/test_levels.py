"""Published loudness is set clip by clip: the same phrase sounds the same in every episode."""

from __future__ import annotations

import numpy as np

from pelvicvoice.audio.loudness import clip_loudness
from pelvicvoice.build import expand_sessions, make_toolchain
from pelvicvoice.mp3.ffmpeg import decode_to_samples
from pelvicvoice.publishing.episodes import choose_episodes, start_date
from pelvicvoice.publishing.publish import publish

BASE = "http://127.0.0.1:8000"
# A short session and a long one: under one gain per session their shared phrases differed.
PROGRAMS = ("quick-squeezes", "let-go")


def test_a_phrase_is_as_loud_in_every_episode_and_a_warm_publish_encodes_nothing(tone_library, tmp_path):
    episodes, texts = choose_episodes(tone_library, PROGRAMS, ("en",), start_date({}))
    with make_toolchain(tone_library, tmp_path / "cache", jobs=1) as toolchain:
        first = publish(episodes, texts, toolchain, tmp_path / "first", BASE)
        again = publish(episodes, texts, toolchain, tmp_path / "again", BASE)
    assert (first.written, again.written) == (2, 2)
    assert first.chunks.encoded > 0
    assert (again.chunks.encoded, again.chunks.cached) == (0, first.chunks.encoded + first.chunks.cached)
    sessions = expand_sessions([episode.request for episode in episodes], tone_library, tmp_path / "first")
    levels = {}
    for session in sessions:
        samples = decode_to_samples(session.target)
        assert samples.tobytes() == decode_to_samples(tmp_path / "again" / "en" / session.target.name).tobytes()
        for cue in session.script.cues:
            if cue.clip in ("well_done", "relax"):
                heard = samples[cue.start : cue.end].astype(np.float64)
                levels.setdefault(cue.clip, []).append(clip_loudness(heard))
    for name, found in levels.items():
        assert len(found) >= 2, name
        assert max(found) - min(found) < 0.1, (name, found)
        assert abs(np.median(found) - (-16)) < 1.5, (name, found)
