"""One settings object: every cache key and the episode key follow the inputs they depend on."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from pelvicvoice.build import make_toolchain
from pelvicvoice.publishing.episodes import choose_episodes, start_date
from pelvicvoice.publishing.publish import publish
from pelvicvoice.settings import BuildSettings, LoudnessTarget, current_settings

CLIP_INPUTS = {"engines", "clip_format"}
CHUNK_INPUTS = {"encoder", "chunk_format"}
# the decoder, the trimming, what a recording may be, the level
RECORDED_INPUTS = {"encoder", "clip_format", "recording_format", "loudness", "leveler"}
TONE_INPUTS = {"clip_format", "tones"}
LEVELED_INPUTS = CLIP_INPUTS | {"loudness", "leveler"}  # a published clip: the clip, and how it is leveled


def changed(settings: BuildSettings, name: str) -> BuildSettings:
    """Return settings with one input changed."""
    value = getattr(settings, name)
    if name == "engines":
        return replace(settings, engines=tuple((engine, identity + " changed") for engine, identity in value))
    if name == "loudness":
        return replace(settings, loudness=LoudnessTarget(integrated_lufs=value.integrated_lufs - 1))
    if isinstance(value, str):
        return replace(settings, **{name: value + " changed"})
    return replace(settings, **{name: value + 1})


@pytest.mark.parametrize("name", [field.name for field in fields(BuildSettings)])
def test_changing_one_input_changes_every_key_that_depends_on_it(tone_library, name):
    settings = current_settings(tone_library.engines)
    other = changed(settings, name)
    assert other != settings
    profile = tone_library.voices["en"]

    def keys(s):
        return (
            s.clip_key(profile, "Relax."),
            s.chunk_key(["chunk", 1]),
            s.episode_key("script", "voice", "tags"),
            s.recorded_clip_key("0" * 64, -17.0),
            s.tone_key("tone:start"),
            s.leveled_clip_key(s.clip_key(profile, "Relax.")),
        )

    (clip, chunk, episode, recorded, tone, leveled), (clip2, chunk2, episode2, recorded2, tone2, leveled2) = (
        keys(settings),
        keys(other),
    )
    assert (clip != clip2) == (name in CLIP_INPUTS), "clip key"
    assert (chunk != chunk2) == (name in CHUNK_INPUTS), "chunk key"
    assert episode != episode2, "the episode key depends on every setting"
    assert (recorded != recorded2) == (name in RECORDED_INPUTS), "recorded clip key"
    assert (tone != tone2) == (name in TONE_INPUTS), "tone key"
    assert (leveled != leveled2) == (name in LEVELED_INPUTS), "leveled clip key"


def test_recorded_and_tone_keys_follow_their_content(tone_library):
    settings = current_settings(tone_library.engines)
    assert settings.recorded_clip_key("a" * 64, -17.0) != settings.recorded_clip_key("b" * 64, -17.0)
    assert settings.recorded_clip_key("a" * 64, -17.0) != settings.recorded_clip_key("a" * 64, -22.0)
    assert settings.tone_key("tone:start") != settings.tone_key("tone:end")
    assert settings.tones.startswith("pydub 0.25.1, ")


def test_keys_depend_on_voice_and_text_and_are_stable(tone_library):
    settings = current_settings(tone_library.engines)
    en, nl = tone_library.voices["en"], tone_library.voices["nl"]
    assert settings.clip_key(en, "Relax.") == current_settings(tone_library.engines).clip_key(en, "Relax.")
    assert settings.clip_key(en, "Relax.") != settings.clip_key(nl, "Relax.")
    assert settings.clip_key(en, "Relax.") != settings.clip_key(en, "Relax!")


def test_a_new_clip_format_publishes_every_episode_again(tone_library, tmp_path):
    """The stale-episode bug: a changed clip format used to leave published episodes as they were."""
    episodes, texts = choose_episodes(tone_library, ("quick-squeezes",), ("en",), start_date({}))
    out, cache = tmp_path / "site", tmp_path / "cache"
    settings = current_settings(tone_library.engines)

    def publish_with(settings):
        with make_toolchain(tone_library, cache, jobs=1, settings=settings) as toolchain:
            return publish(episodes, texts, toolchain, out, "http://127.0.0.1:8000")

    assert (publish_with(settings).written, publish_with(settings).written) == (1, 0)
    audio = (out / "en" / "quick-squeezes.mp3").stat().st_mtime_ns
    assert publish_with(replace(settings, clip_format=settings.clip_format + 1)).written == 1
    assert (out / "en" / "quick-squeezes.mp3").stat().st_mtime_ns != audio
