"""Speak phrases in worker processes: the two worker policies an engine can choose.

- fresh per phrase: every phrase is spoken by a new process (espeak-ng keeps hidden state
  from one utterance to the next, so this is what makes its output repeatable);
- long-lived: each worker loads its engine once and speaks phrase after phrase (a neural
  model takes a second to load).

Either way a phrase that hangs or fails costs only itself, and a phrase whose audio came back
incomplete (the speak function returns None) is spoken again. When a worker dies (killed from
outside, or crashed by its engine), the pool is started again and the phrases it may have been
speaking are spoken again, each alone: a phrase whose worker dies with it alone in flight is
the one that kills it, and after 3 such deaths it fails on its own.
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
# Workers that die this many times in a row without a phrase spoken in between are the engine's
# fault, not a phrase's: every phrase left fails, instead of each being tried alone 3 times.
DEATHS_IN_A_ROW = 3 * SYNTHESIS_ATTEMPTS

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
        strikes = [0] * len(items)  # deaths of a worker speaking the phrase alone
        suspects: list[int] = []  # phrases a dead worker may have been speaking, to be spoken alone
        deaths_in_a_row = attempts = 0
        pending = list(range(len(items)))
        while pending and attempts < SYNTHESIS_ATTEMPTS and deaths_in_a_row < DEATHS_IN_A_ROW:
            alone = suspects[:1]
            batch = alone or pending
            workers = min(self.workers, len(batch))
            executor = self._start(workers) if self.fresh_per_phrase else self._long_lived()
            ended = BROKEN
            done_before = sum(result is not None for result in results)
            try:
                ended, unfinished = self._speak_all(executor, items, batch, results, on_spoken)
            finally:
                if self.fresh_per_phrase or ended != DONE:
                    # A worker that hung may hang again, and a broken pool takes no more work.
                    _stop(executor, kill=ended != DONE)
                    if executor is self._executor:
                        self._executor = None
            spoke = sum(result is not None for result in results) > done_before
            deaths_in_a_row = 0 if spoke else deaths_in_a_row + (ended == BROKEN)
            if alone:
                suspect = alone[0]
                strikes[suspect] += ended == BROKEN
                if strikes[suspect] == SYNTHESIS_ATTEMPTS:
                    why = f"its worker died each of the {SYNTHESIS_ATTEMPTS} times it spoke it alone"
                    results[suspect] = self._failed(items[suspect], why)
                if ended != BROKEN or results[suspect] is not None:
                    suspects.pop(0)
            elif ended == BROKEN:
                # Phrases are taken in order: the dead worker was speaking one of the first unfinished.
                suspects = unfinished[:workers]
            # A round of all pending phrases that ended in time is an attempt: those still pending
            # came back incomplete. A round cut short is not: the hung phrase has its error.
            attempts += ended == DONE and not alone
            pending = [index for index in pending if results[index] is None]
        why = f"no complete audio came back in {SYNTHESIS_ATTEMPTS} attempts"
        if deaths_in_a_row >= DEATHS_IN_A_ROW:
            why = f"its workers died {DEATHS_IN_A_ROW} times in a row, whatever they spoke"
        for index in pending:
            results[index] = self._failed(items[index], why)
        return [result for result in results if result is not None]

    def _failed(self, item: tuple[str, VoiceProfile], why: str) -> SpeechError:
        text, profile = item
        return SpeechError.at(
            profile.location,
            f"{self.engine_name} could not speak {text!r} with {self._voice(profile)}: {why}",
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

    def _speak_all(
        self, executor, items, pending: list[int], results: list, on_spoken: OnSpoken
    ) -> tuple[str, list[int]]:
        """Speak the pending items into results; say how the round ended, and which phrases a dead worker left.

        Ends DONE, HUNG (one ran out of time) or BROKEN (a worker died). Phrases are handed out
        in order, so the first one to run out of time is the one that hangs; whatever is done
        by then is kept, and the rest is left for fresh workers.
        """

        def keep(index: int, outcome) -> None:
            results[index] = outcome
            if outcome is not None and not isinstance(outcome, SpeechError):
                on_spoken(index, outcome)

        try:
            jobs = {index: executor.submit(self.speak, *items[index]) for index in pending}
        except BrokenProcessPool:
            return BROKEN, []  # its workers died while idle: no phrase was being spoken
        unfinished = []
        for index, job in jobs.items():
            try:
                keep(index, self._outcome(items[index], job, self.timeout))
            except BrokenProcessPool:
                unfinished.append(index)  # what finished before the worker died is kept
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
                return HUNG, []
        return (BROKEN if unfinished else DONE), unfinished

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
