"""Speak phrases in worker processes: the two worker policies an engine can choose.

- fresh per phrase: every phrase is spoken by a new process (espeak-ng keeps hidden state
  from one utterance to the next, so this is what makes its output repeatable);
- long-lived: each worker loads its engine once and speaks phrase after phrase (a neural
  model takes a second to load).

Either way a phrase that hangs or fails costs only itself, and a phrase whose audio came
back incomplete (the speak function returns None) is spoken again.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any

from pelvicvoice.errors import SpeechError
from pelvicvoice.model import VoiceProfile

if TYPE_CHECKING:
    import numpy as np

SYNTHESIS_TIMEOUT_SECONDS = 60
SYNTHESIS_ATTEMPTS = 3

# Runs in a worker: speak text with a profile; None when the audio came back incomplete.
SpeakFunction = Callable[[str, VoiceProfile], "np.ndarray | None"]


class WorkerPool:
    """Speak many phrases in worker processes, several at a time, each within a time limit."""

    def __init__(
        self,
        engine_name: str,
        speak: SpeakFunction,
        workers: int,
        *,
        fresh_per_phrase: bool,
        context: BaseContext | None = None,
        timeout: float = SYNTHESIS_TIMEOUT_SECONDS,
        initializer: Callable[[], None] | None = None,
        voice_of: Callable[[Any], str] = lambda options: "",
    ):
        self.engine_name = engine_name
        # Names a profile's voice in messages: "'en' voice 'gmw/en-us'".
        self.voice_of = voice_of
        # A module-level function, so that it can be sent to the workers.
        self.speak = speak
        self.workers = max(1, workers)
        self.fresh_per_phrase = fresh_per_phrase
        # Workers start fresh ("spawn") unless the engine brings a faster clean start.
        self.context = context or multiprocessing.get_context("spawn")
        self.timeout = timeout
        self.initializer = initializer
        self._pool = None

    def synthesize_many(self, items: list[tuple[str, VoiceProfile]]) -> list[np.ndarray | SpeechError]:
        """Return int16 samples for each (text, profile), in order, or the error that phrase met."""
        results: list[np.ndarray | SpeechError | None] = [None] * len(items)
        pending = list(range(len(items)))
        for _attempt in range(SYNTHESIS_ATTEMPTS):
            if not pending:
                break
            if self.fresh_per_phrase:
                with self._start(min(self.workers, len(pending))) as pool:
                    self._speak_all(pool, items, pending, results)
            elif not self._speak_all(self._long_lived_pool(), items, pending, results):
                # A worker that hung may hang again: the next phrases get fresh workers.
                self.close()
            pending = [index for index in pending if results[index] is None]
        for index in pending:
            text, profile = items[index]
            results[index] = SpeechError.at(
                profile.location,
                f"{self.engine_name} gave no complete audio for {text!r} with {self._voice(profile)} "
                f"after {SYNTHESIS_ATTEMPTS} attempts",
            )
        return [result for result in results if result is not None]

    def close(self) -> None:
        """Stop the long-lived workers, if any were started."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def _voice(self, profile: VoiceProfile) -> str:
        voice = self.voice_of(profile.options)
        return f"{profile.language!r} voice {voice!r}" if voice else f"{profile.language!r} {self.engine_name} voice"

    def _start(self, workers: int):
        return self.context.Pool(
            workers, initializer=self.initializer, maxtasksperchild=1 if self.fresh_per_phrase else None
        )

    def _long_lived_pool(self):
        if self._pool is None:
            self._pool = self._start(self.workers)
        return self._pool

    def _speak_all(self, pool, items, pending: list[int], results: list) -> bool:
        """Speak the pending items into results; return False if a phrase ran out of time."""
        jobs = {index: pool.apply_async(self.speak, items[index]) for index in pending}
        in_time = True
        for index, job in jobs.items():
            text, profile = items[index]
            try:
                results[index] = job.get(self.timeout)
            except SpeechError as error:
                results[index] = error
            except Exception as error:  # noqa: BLE001 - whatever a worker meets names the phrase
                timed_out = isinstance(error, multiprocessing.TimeoutError)
                in_time = in_time and not timed_out
                what = f"took more than {self.timeout:g} s" if timed_out else f"failed: {error}"
                results[index] = SpeechError.at(
                    profile.location, f"speaking {text!r} with {self._voice(profile)} {what}"
                )
        return in_time
