"""What a group's chief tells its members: the trial they train together next, or to leave.

A group (``train.processes_per_trial``) trains each trial in several processes. Only the chief
samples, reports and records; before each trial it writes an *order* (the trial's number, its
values and seed) under the group's key in the study's system attrs, and the members, polling
the same storage, train what it says. The study's storage is the only coordinator, as for
workers: nothing else connects the processes but TensorFlow's own collectives.

Example (the orders of one group, in a throwaway storage):
    >>> from optuna.storages import InMemoryStorage
    >>> from optuna.study import StudyDirection
    >>> storage = InMemoryStorage()
    >>> orders = Orders(storage, storage.create_new_study([StudyDirection.MAXIMIZE]), "g1")
    >>> orders.give({"trial": 0, "params": {"width": 32}, "seed": 7})
    >>> orders.next(after=0, timeout=1.0)["trial"]
    0
    >>> orders.leave(); orders.next(after=1, timeout=1.0)
    {'seq': 2, 'stop': True, 'why': 'no_trials_left'}
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna

from autotune.space import AUTO, AUTO_STEPS_PER_EXECUTION
from autotune.train import make_optimizer
from autotune.train._group import GroupBroken, GroupRole, fit_group

if TYPE_CHECKING:
    import keras

    from autotune.data import TrialData
    from autotune.engine.trial._base import TrialSetup
    from autotune.space import TrialConfig
    from autotune.train import Reporter, TrainOutcome

ORDER_ATTR = "autotune:group:"
"""Prefix of a group's order in the study's system attrs (the group's key follows)."""
POLL_SECONDS = 0.1


class Orders:
    """One group's orders in a study's storage (see the module)."""

    def __init__(self, storage: optuna.storages.BaseStorage, study_id: int, key: str) -> None:
        self.storage = storage
        self.study_id = study_id
        self.attr = ORDER_ATTR + key
        self.seq = 0

    def give(self, order: Mapping[str, Any]) -> None:
        """Chief: tell the members what to train next."""
        self.seq += 1
        self.storage.set_study_system_attr(self.study_id, self.attr, {**order, "seq": self.seq})

    def leave(self, why: str = "no_trials_left") -> None:
        """Chief: tell the members the group is done (they exit, saying ``why``)."""
        self.seq += 1
        stop: dict[str, Any] = {"seq": self.seq, "stop": True, "why": why}
        self.storage.set_study_system_attr(self.study_id, self.attr, stop)

    def next(
        self,
        *,
        after: int,
        timeout: float | None = None,
        alive: Callable[[], bool] = lambda: True,
    ) -> dict[str, Any] | None:
        """Member: the first order numbered above ``after``; None when ``timeout`` seconds
        pass or ``alive()`` turns False first."""
        until = None if timeout is None else time.monotonic() + timeout
        while alive() and (until is None or time.monotonic() < until):
            order = self.storage.get_study_system_attrs(self.study_id).get(self.attr)
            if isinstance(order, dict) and int(order.get("seq", 0)) > after:
                return order
            time.sleep(POLL_SECONDS)
        return None


def group_steps(config: TrialConfig, fixed: int | None) -> int:
    """Batches per call of a group's step: the run file's ``steps_per_execution``, where
    ``auto`` (the default) is what one device uses (``AUTO_STEPS_PER_EXECUTION``).

    Example:
        >>> from autotune.space import TrialConfig
        >>> group_steps(TrialConfig({"steps_per_execution": 4}), None)
        4
        >>> group_steps(TrialConfig({}), None) == AUTO_STEPS_PER_EXECUTION
        True
    """
    asked = fixed or config.get("steps_per_execution", AUTO)
    return AUTO_STEPS_PER_EXECUTION if asked == AUTO else int(asked)


@dataclass(frozen=True)
class GroupLink:
    """What a process of a group trains with: its place, its strategy and the group's orders."""

    role: GroupRole
    strategy: Any
    orders: Orders
    member_devices: tuple[str, ...] = ()
    """Each process's devices, as the trials record them (chief first)."""

    def blame(self, broken: GroupBroken) -> str:
        """What broke the group, naming the process TensorFlow blamed (its index and address)."""
        task = broken.task
        if task is None or not 0 <= task < self.role.size or task == self.role.index:
            return str(broken)
        who = "chief" if task == 0 else f"member {task}"
        return f"{who} ({self.role.addresses[task]}) lost: {broken}"

    def attrs(self) -> dict[str, Any]:
        """The group a trial trained on: its hosts and each member's devices."""
        return {
            "size": self.role.size,
            "hosts": list(self.role.addresses),
            "devices": list(self.member_devices),
        }


def train_in_group(
    link: GroupLink,
    setup: TrialSetup,
    config: TrialConfig,
    data: TrialData,
    build: Callable[[], keras.Model],
    *,
    report: Reporter | None,
    deadline: float | None,
    started: float,
) -> TrainOutcome:
    """Train one trial in this process's part of the group (chief or member alike).

    Raises:
        GroupBroken: a member died, stopped heartbeating or timed out.
    """
    try:
        outcome = fit_group(
            config,
            strategy=link.strategy,
            build_model=build,
            make_optimizer=lambda rate: make_optimizer(config, learning_rate=rate),
            train=data.train,
            validation=data.validation,
            train_examples=data.train_examples,
            epochs=setup.epochs,
            devices=setup.devices,
            report=report,
            deadline=deadline,
            started_at=started,
            scale_lr_with_batch=setup.scale_lr_with_batch,
            lr_reference_batch=setup.lr_reference_batch,
            steps_per_execution=group_steps(config, setup.steps_per_execution),
        )
    except GroupBroken as broken:
        raise GroupBroken(link.blame(broken), broken.task) from None
    extras = {**outcome.result.extras, "group": link.attrs()}
    return dataclasses.replace(outcome, result=dataclasses.replace(outcome.result, extras=extras))
