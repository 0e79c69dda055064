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
# Runs in the caller as each phrase's samples arrive: the phrase's index and its samples.
OnSpoken = Callable[[int, "np.ndarray"], None]


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

    def synthesize_many(
        self, items: list[tuple[str, VoiceProfile]], on_spoken: OnSpoken = lambda index, samples: None
    ) -> list[np.ndarray | SpeechError]:
        """Return int16 samples for each (text, profile), in order, or the error that phrase met.

        on_spoken(index, samples) is called as each phrase's samples arrive, so work on them can
        start while the others are still spoken.
        """
        results: list[np.ndarray | SpeechError | None] = [None] * len(items)
        pending = list(range(len(items)))
        attempts = 0
        while pending and attempts < SYNTHESIS_ATTEMPTS:
            if self.fresh_per_phrase:
                with self._start(min(self.workers, len(pending))) as pool:
                    in_time = self._speak_all(pool, items, pending, results, on_spoken)
            else:
                in_time = self._speak_all(self._long_lived_pool(), items, pending, results, on_spoken)
                if not in_time:
                    self.close()  # a worker that hung may hang again: the rest get fresh workers
            # A round cut short by a hung phrase is not an attempt: that phrase has its error, and
            # the others start again on fresh workers.
            attempts += in_time
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

    def _speak_all(self, pool, items, pending: list[int], results: list, on_spoken: OnSpoken) -> bool:
        """Speak the pending items into results; return False when one ran out of time.

        Phrases are handed out in order, so the first one to run out of time is the one that
        hangs; whatever is done by then is kept, and the rest is left for fresh workers.
        """

        def keep(index: int, outcome) -> None:
            results[index] = outcome
            if outcome is not None and not isinstance(outcome, SpeechError):
                on_spoken(index, outcome)

        jobs = {index: pool.apply_async(self.speak, items[index]) for index in pending}
        for index, job in jobs.items():
            try:
                keep(index, self._outcome(items[index], job, self.timeout))
            except multiprocessing.TimeoutError:
                text, profile = items[index]
                results[index] = SpeechError.at(
                    profile.location,
                    f"speaking {text!r} with {self._voice(profile)} took more than {self.timeout:g} s",
                )
                for other, later in jobs.items():
                    if results[other] is None and later.ready():
                        keep(other, self._outcome(items[other], later, 0))
                return False
        return True

    def _outcome(self, item: tuple[str, VoiceProfile], job, timeout: float) -> np.ndarray | SpeechError | None:
        """Return a job's samples (None: incomplete audio) or the error it met; raise TimeoutError if unfinished."""
        try:
            return job.get(timeout)
        except SpeechError as error:
            return error
        except multiprocessing.TimeoutError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever a worker meets names the phrase
            text, profile = item
            return SpeechError.at(profile.location, f"speaking {text!r} with {self._voice(profile)} failed: {error}")
