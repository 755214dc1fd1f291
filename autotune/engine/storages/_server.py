"""The study's storage: database servers with heartbeats, stale-trial retry and reconnection.

A storage URL naming a database server (PostgreSQL, MySQL) becomes an Optuna ``RDBStorage``
with heartbeats, so many machines can share one study: a worker that dies stops beating, and
after the grace period the next worker to look marks its running trial FAIL (``worker_died``)
and queues its configuration again through Optuna's stale-trial retry callback. Every storage
call that fails because the connection went away is retried with backoff until the database
is back. Other URLs (SQLite files) are passed to Optuna unchanged.
"""

from __future__ import annotations

import copy
import functools
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from autotune._private._optuna import backend_of, retry_history, storage_of, wrap_methods
from autotune._private._optuna import stale_trial_ids as _stale
from autotune.spec import is_server_url, redact

logger = logging.getLogger(__name__)

WORKER_DIED = "worker_died"
"""The end reason of a trial whose worker stopped sending heartbeats."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class StorageSettings:
    """How a database-server storage watches workers and rides out lost connections.

    Attributes:
        heartbeat_interval: seconds between a running trial's heartbeats.
        grace_period: seconds without a heartbeat after which a trial's worker counts as dead.
        max_retries: times the configuration of a trial lost with its worker is run again.
        reconnect_timeout: seconds a storage call keeps retrying a lost connection before it
            gives up and raises.
    """

    heartbeat_interval: int = 10
    grace_period: int = 60
    max_retries: int = 1
    reconnect_timeout: float = 600.0


def open_server_storage(url: str, settings: StorageSettings) -> ResilientRDBStorage:
    """The Optuna storage for a database server URL: heartbeats, stale-trial retry,
    reconnection.

    Args:
        url: a database server URL with its ``${VAR}`` references already expanded
            (``postgresql+psycopg://user@host/db``).
        settings: heartbeats, retries and reconnection.

    Raises:
        ValueError: the URL does not name a database server.
        ImportError: the database driver is not installed.
        optuna.exceptions.StorageInternalError: the server cannot be reached (after quick
            retries for 10 seconds) or refuses the connection.

    Example:
        >>> storage = open_server_storage(
        ...     "postgresql+psycopg://postgres@127.0.0.1/test", StorageSettings()
        ... )  # doctest: +SKIP
    """
    if not is_server_url(url):
        raise ValueError(f"not a database server URL: {redact(url)}")
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            return with_reconnect(
                lambda: ResilientRDBStorage(url, settings),
                what=f"connect to {redact(url)}",
                timeout=min(settings.reconnect_timeout, 10.0),
            )
        except Exception as error:
            # workers creating Optuna's tables in a new database at once: one wins, the
            # others find the tables on their next try
            racing = (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError)
            if attempt == 4 or not _caused_by(error, racing):
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


def _caused_by(error: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, types):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _connection_lost(error: BaseException) -> bool:
    """Whether an error (or its cause) says the database connection is gone."""
    import sqlalchemy.exc

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
            return True
        if isinstance(seen, sqlalchemy.exc.DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_inside = threading.local()


def with_reconnect(call: Callable[[], _T], *, what: str, timeout: float) -> _T:
    """Run ``call``, retrying with backoff (0.5 s doubling to 10 s) while the connection is lost."""
    started = time.monotonic()
    delay = 0.5
    failures = 0
    while True:
        try:
            result = call()
        except Exception as error:
            if not _connection_lost(error):
                raise
            waited = time.monotonic() - started
            if waited + delay > timeout:
                logger.error("gave up on the database after %.0fs: could not %s", waited, what)
                raise
            failures += 1
            if failures == 1:
                cause = first_line(error)
                logger.warning("lost the database connection (%s); reconnecting", cause)
            logger.info("could not %s; retrying in %.1fs", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        if failures:
            logger.warning(
                "reconnected to the database after %.1fs (%d retries)",
                time.monotonic() - started,
                failures,
            )
        return result


def first_line(error: BaseException) -> str:
    root: BaseException = error
    while root.__cause__ is not None:
        root = root.__cause__
    text = str(root).strip().splitlines()
    return f"{type(root).__name__}: {text[0] if text else ''}"


def _retrying(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: ResilientRDBStorage, *args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "active", False):  # an outer call already retries
            return method(self, *args, **kwargs)
        _inside.active = True
        try:
            return with_reconnect(
                lambda: method(self, *args, **kwargs),
                what=method.__name__,
                timeout=self.settings.reconnect_timeout,
            )
        finally:
            _inside.active = False

    return wrapper


_DATABASE_METHODS = (
    "create_new_study",
    "delete_study",
    "set_study_user_attr",
    "set_study_system_attr",
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_directions",
    "get_study_user_attrs",
    "get_study_system_attrs",
    "get_all_studies",
    "create_new_trial",
    "_create_new_trial",
    "set_trial_param",
    "_set_trial_param",
    "get_trial_id_from_study_id_trial_number",
    "get_trial_param",
    "set_trial_state_values",
    "set_trial_intermediate_value",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "get_trial_user_attrs",
    "get_trial_system_attrs",
    "get_trial",
    "get_all_trials",
    "_get_trials",
    "get_best_trial",
    "_get_best_trial_id",
    "record_heartbeat",
    "_get_stale_trial_ids",
)


class ResilientRDBStorage(RDBStorage):
    """Optuna's ``RDBStorage`` with heartbeats on, the stale-trial retry callback, connections
    checked before use, and every database call retried with backoff while the server is gone.

    Args:
        url: a database server URL (``postgresql+psycopg://user@host/db``).
        settings: heartbeat interval, grace period, retries and reconnect timeout.

    Example:
        >>> storage = ResilientRDBStorage(
        ...     "postgresql+psycopg://postgres@127.0.0.1/test", StorageSettings()
        ... )  # doctest: +SKIP
        >>> optuna.create_study(storage=storage)  # doctest: +SKIP
    """

    def __init__(self, url: str, settings: StorageSettings) -> None:
        self.settings = settings
        with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            super().__init__(
                url,
                engine_kwargs={"pool_pre_ping": True, "pool_recycle": 300},
                heartbeat_interval=settings.heartbeat_interval,
                grace_period=settings.grace_period,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                    max_retry=settings.max_retries
                ),
            )

    def record_heartbeat_once(self, trial_id: int) -> None:
        """Record one heartbeat without retrying (the heartbeat thread retries on its beat)."""
        _inside.active = True
        try:
            super().record_heartbeat(trial_id)
        finally:
            _inside.active = False


_UNWRAPPED = wrap_methods(ResilientRDBStorage, RDBStorage, _DATABASE_METHODS, _retrying)
"""Database methods this Optuna lacks: inherited as they are (not retried)."""


def server_of(
    where: optuna.Study | str | optuna.storages.BaseStorage,
) -> ResilientRDBStorage | None:
    """The database server storage behind a study or storage, else None (SQLite, journal)."""
    storage: Any = storage_of(where) if isinstance(where, optuna.Study) else where
    storage = backend_of(storage)  # Optuna wraps RDB storages in a cache
    return storage if isinstance(storage, ResilientRDBStorage) else None


@contextmanager
def heartbeat(
    where: optuna.Study | str | optuna.storages.BaseStorage, trial_id: int
) -> Iterator[None]:
    """Send a running trial's heartbeats from a thread while the block runs.

    Optuna beats only inside ``study.optimize``; autotune drives trials with ask and tell, so
    it beats itself. A beat that fails (the database is away) is logged and tried again on the
    next beat; the thread never dies of it.
    """
    beating = server_of(where)
    if beating is None:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat,
        args=(beating, trial_id, stop),
        name=f"autotune-heartbeat-{trial_id}",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _beat(storage: ResilientRDBStorage, trial_id: int, stop: threading.Event) -> None:
    interval = storage.settings.heartbeat_interval
    failing = False
    while True:
        try:
            storage.record_heartbeat_once(trial_id)
            if failing:
                logger.warning("heartbeat of trial id %d reaches the database again", trial_id)
            failing = False
        except Exception as error:
            if not failing:
                logger.warning("heartbeat of trial id %d failed: %s", trial_id, first_line(error))
            failing = True
        if stop.wait(timeout=1.0 if failing else interval):
            return


def stale_trial_ids(study: optuna.Study) -> list[int]:
    """The ids of running trials whose worker stopped sending heartbeats (none off a server)."""
    beating = server_of(study)
    if beating is None:
        return []
    found = _stale(beating, beating.get_study_id_from_name(study.study_name))
    return found or []


def fail_and_retry_stale(study: optuna.Study) -> list[int]:
    """Mark FAIL every running trial whose worker stopped sending heartbeats, and queue its
    configuration again.

    Each such trial gets the user attrs ``end: worker_died`` (so it does not count toward
    ``--trials``) and a ``reason``; Optuna's ``RetryHeartbeatStaleTrialCallback`` then adds a
    WAITING trial with the same parameters, unless the configuration has been retried
    ``max_retries`` times already. When several workers look at once, one of them wins each
    trial. Returns the numbers of the trials this call marked. Where this Optuna cannot list
    stale trials, Optuna's public ``fail_stale_trials`` fails and retries them instead (without
    the ``end`` attr: such a trial then counts toward ``--trials``).
    """
    beating = server_of(study)
    if beating is None:
        return []
    stale = _stale(beating, beating.get_study_id_from_name(study.study_name))
    if stale is None:
        optuna.storages.fail_stale_trials(study)
        return []
    marked: list[int] = []
    for trial_id in stale:
        frozen = beating.get_trial(trial_id)
        if _mark_dead(beating, frozen, trial_id):
            marked.append(frozen.number)
            _retry_configuration(study, beating, frozen)
    return marked


def _mark_dead(
    storage: ResilientRDBStorage, frozen: optuna.trial.FrozenTrial, trial_id: int
) -> bool:
    who = frozen.user_attrs.get("owner")
    worker = (
        f"{who.get('host')} pid {who.get('pid')}" if isinstance(who, dict) else "unknown worker"
    )
    reason = (
        f"no heartbeat for over {storage.settings.grace_period}s: its worker ({worker}) died, "
        "was killed or lost the database"
    )
    try:
        storage.set_trial_user_attr(trial_id, "end", WORKER_DIED)
        storage.set_trial_user_attr(trial_id, "reason", reason)
        won = storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:  # another worker was first
        return False
    if won:
        logger.warning("trial %d: %s; marked FAIL (%s)", frozen.number, reason, WORKER_DIED)
    return won


def _retry_configuration(
    study: optuna.Study, storage: ResilientRDBStorage, frozen: optuna.trial.FrozenTrial
) -> None:
    """Optuna's stale-trial retry, given the trial without the dead run's user attrs."""
    callback = storage.get_heartbeat_stale_trial_callback()
    if callback is None:
        return
    history = retry_history(frozen)
    if len(history) + 1 > storage.settings.max_retries:
        logger.warning(
            "trial %d: its configuration ran %d times already; not again",
            frozen.number,
            len(history) + 1,
        )
        return
    clean = copy.deepcopy(frozen)
    clean.user_attrs = {"retry_of": frozen.number}
    callback(study, clean)
    logger.warning("trial %d: its configuration is queued to run again", frozen.number)
