"""A session renders into any binary stream, and the file a build writes is that stream."""

from __future__ import annotations

import io

from pelvicvoice.build import build_sessions, expand_sessions, make_toolchain
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.mp3.frames import decoded_samples
from pelvicvoice.mp3.session import write_mp3
from pelvicvoice.mp3.tags import id3_size


def test_a_session_streams_the_bytes_a_build_writes(tone_library, tmp_path):
    requests = make_requests(tone_library, ("quick-squeezes",), ("zh",), ())
    session = expand_sessions(requests, tone_library, tmp_path / "out")[0]
    with make_toolchain(tone_library, tmp_path / "cache", jobs=1) as toolchain:
        built = build_sessions(requests, toolchain, tmp_path / "out").written[0].read_bytes()
        clips = toolchain.clips.clips_for([(session.script, session.profile)]).sessions[0]
        spliced, whole = io.BytesIO(), io.BytesIO()
        counts = write_mp3(spliced, session.script, clips, toolchain.encoder)
        write_mp3(whole, session.script, clips, None)
    assert spliced.getvalue() == built
    assert counts.encoded == 0 and counts.cached > 0
    # Without the frame cache the whole timeline is encoded: the same tag and the same length.
    tag = id3_size(built)
    assert whole.getvalue()[:tag] == built[:tag]
    assert decoded_samples(whole.getvalue()[tag:]) == decoded_samples(built[tag:]) == session.script.total
