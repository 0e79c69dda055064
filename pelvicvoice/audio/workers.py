"""Speak phrases in worker processes: the two worker policies an engine can choose.

- fresh per phrase: every phrase is spoken by a new process (espeak-ng keeps hidden state
  from one utterance to the next, so this is what makes its output repeatable);
- long-lived: each worker loads its engine once and speaks phrase after phrase (a neural
  model takes a second to load).

Either way a phrase that hangs or fails costs only itself, a phrase whose audio came back
incomplete (the speak function returns None) is spoken again, and so is every phrase a worker
was speaking when it died (killed from outside, or crashed): the pool is started again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
# How a round of speaking ended.
DONE, HUNG, BROKEN = "done", "hung", "broken"


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
        self._executor: ProcessPoolExecutor | None = None

    def synthesize_many(
        self, items: list[tuple[str, VoiceProfile]], on_spoken: OnSpoken = lambda index, samples: None
    ) -> list[np.ndarray | SpeechError]:
        """Return int16 samples for each (text, profile), in order, or the error that phrase met.

        on_spoken(index, samples) is called as each phrase's samples arrive, so work on them can
        start while the others are still spoken.
        """
        results: list[np.ndarray | SpeechError | None] = [None] * len(items)
        # Each time a worker dies, the phrases it may have been speaking get a strike.
        strikes = [0] * len(items)
        pending = list(range(len(items)))
        attempts = 0
        while pending and attempts < SYNTHESIS_ATTEMPTS:
            workers = min(self.workers, len(pending))
            executor = self._start(workers) if self.fresh_per_phrase else self._long_lived()
            ended = BROKEN
            try:
                ended = self._speak_all(executor, items, pending, results, on_spoken)
            finally:
                if self.fresh_per_phrase or ended != DONE:
                    # A worker that hung may hang again, and a broken pool takes no more work.
                    _stop(executor, kill=ended != DONE)
                    if executor is self._executor:
                        self._executor = None
            if ended == BROKEN:
                # Phrases are taken in order, so the dead worker was speaking one of the first unfinished.
                for index in [index for index in pending if results[index] is None][:workers]:
                    strikes[index] += 1
                    if strikes[index] == SYNTHESIS_ATTEMPTS:
                        results[index] = self._failed(items[index], "its worker died each time")
            # A round that ended in time is an attempt: the phrases still pending came back incomplete.
            # A round cut short is not: the hung phrase has its error, and the dead worker's phrases their strike.
            attempts += ended == DONE
            pending = [index for index in pending if results[index] is None]
        for index in pending:
            results[index] = self._failed(items[index], "no complete audio came back")
        return [result for result in results if result is not None]

    def _failed(self, item: tuple[str, VoiceProfile], why: str) -> SpeechError:
        text, profile = item
        return SpeechError.at(
            profile.location,
            f"{self.engine_name} could not speak {text!r} with {self._voice(profile)} "
            f"in {SYNTHESIS_ATTEMPTS} attempts: {why}",
        )

    def close(self) -> None:
        """Stop the long-lived workers, if any were started."""
        if self._executor is not None:
            _stop(self._executor, kill=False)
            self._executor = None

    def _voice(self, profile: VoiceProfile) -> str:
        voice = self.voice_of(profile.options)
        return f"{profile.language!r} voice {voice!r}" if voice else f"{profile.language!r} {self.engine_name} voice"

    def _start(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            workers,
            mp_context=self.context,
            initializer=self.initializer,
            # One task per child is the case of max_tasks_per_child that CPython gh-115634 leaves
            # working: its stale idle token needs a worker that outlives a task.
            max_tasks_per_child=1 if self.fresh_per_phrase else None,
        )

    def _long_lived(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = self._start(self.workers)
        return self._executor

    def _speak_all(self, executor, items, pending: list[int], results: list, on_spoken: OnSpoken) -> str:
        """Speak the pending items into results; return DONE, HUNG (one ran out of time) or BROKEN (a worker died).

        Phrases are handed out in order, so the first one to run out of time is the one that
        hangs; whatever is done by then is kept, and the rest is left for fresh workers.
        """

        def keep(index: int, outcome) -> None:
            results[index] = outcome
            if outcome is not None and not isinstance(outcome, SpeechError):
                on_spoken(index, outcome)

        try:
            jobs = {index: executor.submit(self.speak, *items[index]) for index in pending}
        except BrokenProcessPool:
            return BROKEN
        ended = DONE
        for index, job in jobs.items():
            try:
                keep(index, self._outcome(items[index], job, self.timeout))
            except BrokenProcessPool:
                ended = BROKEN  # what finished before the worker died is kept; the rest waits for new workers
            except TimeoutError:
                text, profile = items[index]
                results[index] = SpeechError.at(
                    profile.location,
                    f"speaking {text!r} with {self._voice(profile)} took more than {self.timeout:g} s",
                )
                for other, later in jobs.items():
                    if results[other] is None and later.done():
                        with contextlib.suppress(BrokenProcessPool):
                            keep(other, self._outcome(items[other], later, 0))
                return HUNG
        return ended

    def _outcome(self, item: tuple[str, VoiceProfile], job: Future, timeout: float) -> np.ndarray | SpeechError | None:
        """Return a job's samples (None: incomplete audio) or the error it met.

        Raises TimeoutError if the job is unfinished, BrokenProcessPool if its worker died.
        """
        try:
            return job.result(timeout)
        except SpeechError as error:
            return error
        except (TimeoutError, BrokenProcessPool):
            raise
        except Exception as error:  # noqa: BLE001 - whatever a worker meets names the phrase
            text, profile = item
            return SpeechError.at(profile.location, f"speaking {text!r} with {self._voice(profile)} failed: {error}")


def _stop(executor: ProcessPoolExecutor, *, kill: bool) -> None:
    """Shut an executor down; with kill, end its workers first, hung or not."""
    if kill:
        # Python 3.14 has executor.kill_workers() for this; before it, the processes are private.
        for process in list((executor._processes or {}).values()):
            process.kill()
    executor.shutdown(wait=True, cancel_futures=True)
