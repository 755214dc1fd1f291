"""An exact study-wide trial count for any number of processes: reserved trials, popped atomically.

``--trials N`` means N trials in the study, however many workers (local processes, or other
machines sharing a PostgreSQL storage) run them. Counting finished trials and starting one
more while the count is short cannot be made exact: two workers can both see N-1 and both
start. Instead trials are *reserved* as WAITING trials with the ``autotune:reserved`` system
attr ("tickets"), and workers *pop* tickets: Optuna's RDB storage moves a trial from WAITING
to RUNNING in one transaction and refuses when another process got there first (on SQLite only
with ``storage_for``'s serialized transactions). The sampler proposes a popped ticket's values
exactly as for ``study.ask()``; a ticket enqueued for ``start_with`` (``study.enqueue_trial``)
or a retry (which carries the dead trial's params) runs those values.

The arithmetic (``reserve``): ``needed = total - counted - running - tickets``, where
``counted`` is finished trials except those lost to a dead process (``end`` in
``UNCOUNTED_ENDS``: ``abandoned``, ``worker_died``), ``running`` is RUNNING trials and
``tickets`` is WAITING trials holding a ticket. Enqueued ``start_with`` trials get tickets first
(lowest numbers first), then new empty placeholders are added; when the count is lowered on a
resume, the highest-numbered tickets are taken back (the trials stay WAITING, unticketed, for a
later run). A trial lost to a dead worker is retried once with the same values (``retry``);
if the retry dies too, the next ``reserve`` gives its slot to a newly sampled trial.

Tickets are given a ``window`` at a time (``WINDOW``), not all up front: Optuna's RDB storage
re-reads every unfinished trial, WAITING ones included, each time a process reads the study,
so a 1000-trial study whose tickets all waited made every read ~35x slower than a 48-trial one
(148 ms against 4.2 ms here), and a worker reads the study at least once per trial. A process
that finds no ticket tops the window up (``autotune.engine.reserved._claim.claim``, under the study
lock) and stops only when every trial of the total has started.

Usage, storage-agnostic (SQLite through ``storage_for``, PostgreSQL, MySQL, journal)::

    study = optuna.load_study(study_name=name, storage=storage_for(url))
    reserve(study, total)           # once, by one process, before workers start popping
    while (trial := pop(study)) is not None:   # in every worker
        ... run it ...
        study.tell(trial, value)

``reserve`` must not run concurrently with itself (``reserved._claim.reserve_shared``
holds the study lock around it); ``pop`` and ``retry`` may run in any number of processes at
once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from autotune._private._optuna import forget_cached_trials, storage_of, study_id
from autotune._private._optuna import trial_id as id_of
from autotune.engine.study._study import UNCOUNTED_ENDS, counted

logger = logging.getLogger(__name__)

TICKET = "autotune:reserved"
"""System attr on a WAITING trial that some worker may run (the trial holds a reserved slot)."""
WINDOW = 16
"""Tickets held at once where processes top them up (``reserve``'s ``window``)."""
RETRY_OF = "autotune:retry_of"
"""System attr on a retry: the number of the trial whose worker died."""


def tickets(study: optuna.Study) -> list[FrozenTrial]:
    """The WAITING trials holding a ticket, lowest number first."""
    return ticketed(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))


def ticketed(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """The WAITING trials of ``trials`` that hold a ticket, lowest number first."""
    return sorted(
        (t for t in trials if t.state == TrialState.WAITING and t.system_attrs.get(TICKET)),
        key=lambda t: t.number,
    )


def outstanding(study: optuna.Study) -> int:
    """Trials still to finish before the study holds its reserved total: tickets + RUNNING."""
    trials = study.get_trials(deepcopy=False)
    return sum(
        1
        for t in trials
        if t.state == TrialState.RUNNING
        or (t.state == TrialState.WAITING and t.system_attrs.get(TICKET))
    )


def reserve(study: optuna.Study, total: int, *, window: int | None = None) -> list[int]:
    """Give out tickets so that counted + running + ticketed trials is exactly ``total``
    (or, with ``window``, until ``window`` tickets are held or the total is reached).

    Args:
        study: the study (any storage).
        total: the study-wide number of trials wanted (``--trials``).
        window: the most tickets held at once; None gives out every missing ticket now.

    Returns:
        The numbers of the trials that got a ticket now (enqueued trials first, then new
        placeholders); empty when the study already holds its total (or its window).

    Example:
        >>> study = optuna.create_study()
        >>> study.enqueue_trial({"x": 1.0})
        >>> reserve(study, 3)
        [0, 1, 2]
        >>> reserve(study, 3)
        []
        >>> reserve(study, 10, window=4)
        [3]
    """
    return reserved(study, total, window=window)[0]


def reserved(
    study: optuna.Study, total: int, *, window: int | None = None
) -> tuple[list[int], int]:
    """``reserve``, also returning the number of tickets held after it: 0 means every trial
    of ``total`` has started (with a window, more tickets follow while it is above 0)."""
    trials = study.get_trials(deepcopy=False)
    running = sum(1 for t in trials if t.state == TrialState.RUNNING)
    held = ticketed(trials)
    needed = total - counted(trials) - running - len(held)
    storage = storage_of(study)
    if needed < 0:
        back = held[len(held) + needed :]
        for frozen in reversed(back):
            storage.set_trial_system_attr(id_of(study, frozen), TICKET, False)
        logger.info("took back %d reserved trials (total lowered to %d)", -needed, total)
        return [], len(held) - len(back)
    if window is not None:
        needed = min(needed, max(0, window - len(held)))
    given: list[int] = []
    unticketed = sorted(
        (t for t in trials if t.state == TrialState.WAITING and not t.system_attrs.get(TICKET)),
        key=lambda t: t.number,
    )
    for frozen in unticketed[:needed]:
        storage.set_trial_system_attr(id_of(study, frozen), TICKET, True)
        given.append(frozen.number)
    for _ in range(needed - len(given)):
        trial_id = storage.create_new_trial(
            study_id(study), template_trial=_placeholder({TICKET: True})
        )
        given.append(storage.get_trial_number_from_id(trial_id))
    if given:
        logger.info("reserved trials %s (study total %d)", given, total)
    return given, len(held) + len(given)


def to_start(trials: Sequence[FrozenTrial], total: int) -> int:
    """How many trials of ``total`` have not started yet (ticketed or not).

    Example:
        >>> study = optuna.create_study()
        >>> reserve(study, 5, window=2)
        [0, 1]
        >>> to_start(study.get_trials(), 5)
        5
    """
    running = sum(1 for t in trials if t.state == TrialState.RUNNING)
    return total - counted(trials) - running


def pop(study: optuna.Study, known: Sequence[FrozenTrial] | None = None) -> optuna.Trial | None:
    """Claim the lowest-numbered ticket and return it as a RUNNING trial, or None if none is left.

    Safe in any number of processes at once: the WAITING -> RUNNING move is one transaction
    that fails for all but one claimant, and the losers go on to the next ticket. The sampler
    prepares the trial exactly as ``study.ask()`` would.

    Args:
        study: the study.
        known: the study as the caller last read it: its tickets are tried first, so that a
            worker that has just read the study need not read it again. None is returned only
            after a fresh read finds no ticket left. Pass it only where no other process takes
            tickets back meanwhile (one machine's run, whose coordinator reserves alone).
    """
    tried: set[int] = set()
    if known is not None:
        trial = _pop_first(study, ticketed(known), tried)
        if trial is not None:
            return trial
    return _pop_first(study, tickets(study), tried)


def _pop_first(
    study: optuna.Study, candidates: Sequence[FrozenTrial], tried: set[int]
) -> optuna.Trial | None:
    storage = storage_of(study)
    for frozen in candidates:
        if id_of(study, frozen) in tried:
            continue
        tried.add(id_of(study, frozen))
        try:
            if not storage.set_trial_state_values(id_of(study, frozen), state=TrialState.RUNNING):
                continue
        except UpdateFinishedTrialError:
            continue
        _forget_cached_trials(study)
        return optuna.Trial(study, id_of(study, frozen))
    return None


def retry(study: optuna.Study, frozen: FrozenTrial) -> int | None:
    """Reserve a retry of a trial whose worker died: a ticket with the same parameter values.

    A trial is retried at most once: a retry whose worker died too is not retried again (the
    next ``reserve`` gives its slot to a newly sampled trial).

    Returns:
        The retry's trial number, or None when ``frozen`` was itself a retry.
    """
    if frozen.system_attrs.get(RETRY_OF) is not None:
        return None
    # The values travel as the ticket's own params (a trial suggests a value it already has),
    # through Optuna's public storage API rather than enqueue_trial's private "fixed_params".
    template = optuna.trial.create_trial(
        state=TrialState.WAITING,
        params=dict(frozen.params),
        distributions=dict(frozen.distributions),
        system_attrs={TICKET: True, RETRY_OF: frozen.number},
    )
    trial_id = storage_of(study).create_new_trial(study_id(study), template_trial=template)
    number = storage_of(study).get_trial_number_from_id(trial_id)
    logger.info("trial %d will retry trial %d (its worker died)", number, frozen.number)
    return number


def uncounted(frozen: FrozenTrial) -> bool:
    """Whether a finished trial was lost to a dead process (and so does not count)."""
    return frozen.user_attrs.get("end") in UNCOUNTED_ENDS


def _placeholder(system_attrs: dict[str, Any]) -> FrozenTrial:
    return optuna.trial.create_trial(state=TrialState.WAITING, system_attrs=system_attrs)


def _forget_cached_trials(study: optuna.Study) -> None:
    # What study.ask() does before a trial: the sampler must see the study as it is now.
    forget_cached_trials(study)
