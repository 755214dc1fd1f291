"""The private parts of Optuna autotune uses, each with its public fallback.

Optuna keeps no public handle on a trial's database id, a study's storage or id, or the
storage its cache wraps; autotune reads the private attribute when it is there and otherwise
takes the public route (slower: a storage lookup), so an Optuna release that renames one of
them slows autotune down, never stops it. Wrappers around ``RDBStorage`` methods are applied
to the methods that exist: a method Optuna renames is left unwrapped (not retried, not
serialized) and named in one debug log line.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import optuna
from optuna.storages import RetryFailedTrialCallback

logger = logging.getLogger(__name__)

TRIAL_ID = "_trial_id"
"""``optuna.Trial`` and ``FrozenTrial``: the trial's id in its storage."""

STUDY_STORAGE = "_storage"
"""``optuna.Study``: its storage."""

STUDY_ID = "_study_id"
"""``optuna.Study``: its id in its storage."""

CACHE_BACKEND = "_backend"
"""Optuna's ``_CachedStorage``: the ``RDBStorage`` it wraps."""

THREAD_LOCAL = "_thread_local"
"""``optuna.Study``: per-thread state holding ``cached_all_trials`` (what ``ask`` resets)."""


def storage_of(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage of ``study``.

    Raises:
        RuntimeError: this Optuna keeps a study's storage elsewhere (no public accessor exists:
            autotune must be updated for it).
    """
    storage = getattr(study, STUDY_STORAGE, None)
    if storage is None:
        raise RuntimeError(
            f"optuna {optuna.__version__}: a Study has no {STUDY_STORAGE!r}; this autotune "
            "does not support that Optuna release"
        )
    return storage


def backend_of(storage: Any) -> Any:
    """The storage behind Optuna's cache (``_CachedStorage``), else ``storage`` itself."""
    return getattr(storage, CACHE_BACKEND, storage)


def study_id(study: optuna.Study) -> int:
    """``study``'s id in its storage (public fallback: look it up by name)."""
    found = getattr(study, STUDY_ID, None)
    if isinstance(found, int):
        return found
    return storage_of(study).get_study_id_from_name(study.study_name)


def trial_id(study: optuna.Study, trial: optuna.trial.BaseTrial) -> int:
    """The id of ``trial`` (of ``study``) in its storage (public fallback: by number)."""
    found = getattr(trial, TRIAL_ID, None)
    if isinstance(found, int):
        return found
    storage = storage_of(study)
    return storage.get_trial_id_from_study_id_trial_number(study_id(study), trial.number)


def forget_cached_trials(study: optuna.Study) -> None:
    """What ``study.ask()`` does before a trial: drop the trials the study cached for this
    thread, so the sampler sees the study as it is now (nothing to do where there is no such
    cache: Optuna then reads the storage each time)."""
    local = getattr(study, THREAD_LOCAL, None)
    if local is not None and hasattr(local, "cached_all_trials"):
        local.cached_all_trials = None


def retry_history(frozen: optuna.trial.FrozenTrial) -> list[int]:
    """The numbers of the trials whose configuration ``frozen`` retries (Optuna's public
    ``RetryFailedTrialCallback.retry_history``)."""
    return list(RetryFailedTrialCallback.retry_history(frozen))


def wrap_methods(
    target: type,
    source: type,
    names: Iterable[str],
    wrap: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> list[str]:
    """Set ``target.<name> = wrap(source.<name>)`` for each name ``source`` has; return the
    names it lacks (left as they are inherited: an Optuna release renamed or dropped them)."""
    missing = []
    for name in names:
        method = getattr(source, name, None)
        if method is None:
            missing.append(name)
            continue
        setattr(target, name, wrap(method))
    if missing:
        logger.debug("%s: %s not found on %s; left unwrapped", target.__name__, missing, source)
    return missing


def stale_trial_ids(storage: Any, study: int) -> list[int] | None:
    """Ids of the running trials of study id ``study`` whose heartbeat stopped, from an
    ``RDBStorage`` with heartbeats; None where this Optuna lacks the method (the caller then
    runs Optuna's public ``optuna.storages.fail_stale_trials``)."""
    method = getattr(storage, "_get_stale_trial_ids", None)
    return None if method is None else list(method(study))


RDB_MODELS = "optuna.storages._rdb.models"
"""Optuna's ORM tables (private)."""

RDB_STORAGE = "optuna.storages._rdb.storage"
"""Where Optuna's scoped-session helper lives (private)."""


def upsert_user_attrs(storage: Any, trial: int, attrs: Mapping[str, Any]) -> bool:
    """Write ``attrs`` of trial id ``trial`` in one SQLite upsert through Optuna's ORM tables
    and session helper; False (nothing written) where this Optuna has moved them (the caller
    then sets one attr at a time through the public storage API).

    Raises:
        optuna.exceptions.UpdateFinishedTrialError: the trial has finished.
    """
    try:
        models = importlib.import_module(RDB_MODELS)
        scoped = importlib.import_module(RDB_STORAGE)._create_scoped_session
        from sqlalchemy.dialects.sqlite import insert
    except (ImportError, AttributeError):
        return False
    model = models.TrialUserAttributeModel
    rows = [
        {"trial_id": trial, "key": key, "value_json": json.dumps(value)}
        for key, value in attrs.items()
    ]
    with scoped(storage.scoped_session) as session:
        state: Any = models.TrialModel.find_or_raise_by_id(trial, session).state
        storage.check_trial_is_updatable(trial, state)
        statement = insert(model).values(rows)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[model.trial_id, model.key],
                set_={"value_json": statement.excluded.value_json},
            )
        )
    return True
