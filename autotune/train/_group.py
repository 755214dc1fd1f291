"""One trial trained by a group of processes under ``MultiWorkerMirroredStrategy``.

Keras 3's ``model.fit`` fails under ``MultiWorkerMirroredStrategy`` (``ValueError: Attempt to
convert a value (PerReplica:...)``, keras-team/keras#20585), so a group trains with its own
distributed step: the batched dataset goes through ``strategy.experimental_distribute_dataset``
(each process reads its share of every global batch), ``strategy.run`` runs a ``GradientTape``
step whose loss is averaged over the *global* batch (``tf.nn.compute_average_loss``), and the
optimizer applies the all-reduced gradients to the model built under the strategy's scope.

Every process of a group must run the same collectives in the same order, or one waits for
the others until the collective timeout. So nobody stops alone: each step all-reduces a stop
flag with the loss (a process sets it for its deadline, a NaN loss or Ctrl-C), and each epoch
ends with one more all-reduce of the flag after the chief's report to the pruner. All stop at
the same step. A member that dies or stops heartbeating makes the others' next collective fail
within ``GroupRole.timeout`` seconds (``GroupBroken``); TensorFlow then needs a new process.

The strategy must be made before anything else starts TensorFlow's runtime in the process
(``group_strategy``), from the ``TF_CONFIG`` that ``GroupRole.environment`` puts in place.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

from autotune._stop import stop_requested
from autotune.train._callbacks import Reporter, TrialMonitor
from autotune.train._replicas import scaled_learning_rate
from autotune.train._result import STOP_REASONS
from autotune.train._schedule import DEFAULT_SCHEDULE, set_epoch_rate
from autotune.train._trainer import TrainOutcome, first_line, measure_trial

if TYPE_CHECKING:
    from autotune.space import TrialConfig

COLLECTIVE_TIMEOUT = 60.0
"""Seconds a collective waits for the group's other processes before it fails. TensorFlow's
coordination service also notices a process that stopped heartbeating (~10-20 s here)."""

PINNED = {"precision": "float32", "jit_compile": False}
"""Speed knobs a group trial trains with whatever the config says: the distributed step runs
in float32 without XLA (what differs from the config is recorded as the trial's ``pinned``)."""


@dataclass(frozen=True)
class GroupRole:
    """One process's place in a group that trains each trial together.

    Attributes:
        index: 0 for the chief (it claims, reports and records the trial), 1.. for members.
        addresses: ``host:port`` of every process of the group, the chief's first.
        key: names this group (a new one each time it forms) in the study's storage.
        timeout: seconds a collective waits for the others (``COLLECTIVE_TIMEOUT``).

    Example:
        >>> role = GroupRole(1, ("127.0.0.1:5000", "127.0.0.1:5001"), key="g1")
        >>> role.size, role.chief
        (2, False)
        >>> json.loads(role.environment()["TF_CONFIG"])["task"]
        {'type': 'worker', 'index': 1}
    """

    index: int
    addresses: tuple[str, ...]
    key: str
    timeout: float = COLLECTIVE_TIMEOUT

    @property
    def size(self) -> int:
        """Processes in the group."""
        return len(self.addresses)

    @property
    def chief(self) -> bool:
        """Whether this process claims, reports and records the group's trials."""
        return self.index == 0

    def environment(self) -> dict[str, str]:
        """The ``TF_CONFIG`` this process sets before TensorFlow starts (users never write one)."""
        config = {
            "cluster": {"worker": list(self.addresses)},
            "task": {"type": "worker", "index": self.index},
        }
        return {"TF_CONFIG": json.dumps(config)}


def free_addresses(count: int, host: str = "127.0.0.1") -> tuple[str, ...]:
    """``count`` ``host:port`` addresses whose ports were free a moment ago.

    Example:
        >>> len(set(free_addresses(3)))
        3
    """
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return tuple(f"{host}:{sock.getsockname()[1]}" for sock in sockets)


@functools.cache
def group_strategy(timeout: float = COLLECTIVE_TIMEOUT) -> Any:
    """The process's ``MultiWorkerMirroredStrategy`` (made once, from ``TF_CONFIG``).

    It blocks until every process of the group has made its own.
    """
    # each trial traces its own step: TensorFlow's retracing warnings say nothing useful here
    tf.get_logger().setLevel(logging.ERROR)
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


class GroupBroken(RuntimeError):
    """A collective failed: a member died, stopped heartbeating or timed out. The process's
    TensorFlow runtime cannot run another collective; the group must form anew.

    Attributes:
        task: the group's process TensorFlow named as the cause (None when it named none).
    """

    def __init__(self, message: str, task: int | None = None) -> None:
        super().__init__(message)
        self.task = task


def broken_group(error: BaseException) -> GroupBroken:
    """A ``GroupBroken`` saying what TensorFlow's collective error says, in one line: the
    first line naming the cause, and the task (process index) it blames.

    Example:
        >>> text = ("Graph execution error:\\n\\nCollective ops is aborted by: tasks are "
        ...         "unhealthy (stopped sending heartbeats):\\n/job:worker/replica:0/task:1")
        >>> broken = broken_group(RuntimeError(text))
        >>> broken.task, str(broken)
        (1, 'Collective ops is aborted by: tasks are unhealthy (stopped sending heartbeats):')
    """
    text = str(error)
    tasks = [int(found) for found in re.findall(r"/job:worker/replica:\d+/task:(\d+)", text)]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line for line in lines if any(word in line.lower() for word in _CAUSES)]
    chosen = (causes or lines or [type(error).__name__])[0]
    return GroupBroken(chosen[:300], tasks[0] if tasks else None)


_CAUSES = ("unhealthy", "reset by peer", "aborted", "deadline", "timed out", "unavailable")


_COLLECTIVE_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.InternalError,
    tf.errors.DeadlineExceededError,
    tf.errors.CancelledError,
    tf.errors.AbortedError,
    tf.errors.UnknownError,
    tf.errors.FailedPreconditionError,
)


def fit_group(
    config: TrialConfig,
    *,
    strategy: Any,
    build_model: Callable[[], keras.Model],
    make_optimizer: Callable[[float], keras.optimizers.Optimizer],
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    train_examples: int,
    epochs: int,
    devices: Sequence[str],
    report: Reporter | None = None,
    deadline: float | None = None,
    started_at: float | None = None,
    scale_lr_with_batch: str = "none",
    lr_reference_batch: int = 256,
    steps_per_execution: int = 1,
) -> TrainOutcome:
    """Train one trial's model together with the group's other processes, and measure it.

    Every process of the group calls it with the same config, seed and data; only the chief
    passes ``report`` (and usually ``deadline``). ``batch_size`` is the global batch, split
    between the processes. Ends as ``fit`` does (``complete``, ``pruned``, ``deadline``,
    ``nan``, ``interrupted``, ``error``), the same for every process. Each call of the traced
    step trains ``steps_per_execution`` batches (a stop takes effect after the call).

    Raises:
        GroupBroken: a collective failed; the trial was lost with the group.
    """
    started = time.perf_counter() if started_at is None else started_at
    monitor = TrialMonitor(started_at=started, report=report, deadline=deadline)
    batch_size = int(config.get("batch_size", 32))
    replicas = int(strategy.num_replicas_in_sync)
    learning_rate = scaled_learning_rate(
        float(config.get("learning_rate", 1e-3)),
        batch_size=batch_size,
        rule=scale_lr_with_batch,
        reference_batch=lr_reference_batch,
    )
    extras: dict[str, Any] = {
        "strategy": "multi_worker_mirrored",
        "replicas": replicas,
        "per_replica_batch": batch_size / replicas,
        "learning_rate_used": learning_rate,
        "steps_per_execution": steps_per_execution,
    }
    pinned = {
        key: [config.get(key), used]
        for key, used in PINNED.items()
        if key in config and config.get(key) != used
    }
    if pinned:
        extras["pinned"] = pinned
    model: keras.Model | None = None
    end, reason = "complete", None
    try:
        with strategy.scope():
            model = build_model()
            optimizer = make_optimizer(learning_rate)
            optimizer.build(model.trainable_variables)
        loop = _Loop(strategy, model, optimizer, batch_size)
        monitor.set_model(model)
        monitor.set_params({"epochs": epochs})
        schedule = str(config.get("lr_schedule", DEFAULT_SCHEDULE))

        def rate(epoch: int) -> None:
            set_epoch_rate(optimizer, learning_rate, epoch, epochs, schedule)

        end = _train(loop, monitor, train, validation, epochs, max(1, steps_per_execution), rate)
    except _COLLECTIVE_ERRORS as error:
        raise broken_group(error) from None
    except (tf.errors.ResourceExhaustedError, MemoryError) as error:
        end, reason = "oom", f"out of memory: {first_line(error)}"
    except Exception as error:
        end, reason = "error", f"{type(error).__name__}: {first_line(error)}"
    if end in STOP_REASONS:
        reason = STOP_REASONS[end]
    elif end == "pruned":
        reason = f"pruned after epoch {len(monitor.curve)}"
    return TrainOutcome(
        result=measure_trial(monitor, started, train_examples, devices, end, reason, extras),
        model=model,
    )


class _Loop:
    """The group's traced step, epoch-end agreement and validation pass for one model."""

    def __init__(
        self, strategy: Any, model: keras.Model, optimizer: Any, global_batch: int
    ) -> None:
        self.strategy = strategy
        self.model = model

        def replica_step(batch: Any, flag: tf.Tensor) -> tf.Tensor:
            x, y = batch
            with tf.GradientTape() as tape:
                probabilities = model(x, training=True)
                per_example = keras.losses.sparse_categorical_crossentropy(y, probabilities)
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            context = tf.distribute.get_replica_context()
            return context.all_reduce("sum", tf.stack([loss, flag]))

        def replica_agree(flag: tf.Tensor) -> tf.Tensor:
            # computed in the replica (not a constant passed in), so it has a device to reduce on
            local = tf.identity(flag) * tf.ones([], tf.float32)
            return tf.distribute.get_replica_context().all_reduce("sum", local)

        @tf.function
        def step(iterator: Any, flag: tf.Tensor, count: tf.Tensor) -> tf.Tensor:
            summed = tf.zeros([2], tf.float32)
            for _ in tf.range(count):  # one call, ``count`` batches: Python runs once
                reduced = strategy.run(replica_step, args=(next(iterator), flag))
                summed = strategy.experimental_local_results(reduced)[0]
            return summed

        @tf.function
        def agree(flag: tf.Tensor) -> tf.Tensor:
            return strategy.experimental_local_results(strategy.run(replica_agree, (flag,)))[0]

        @tf.function(reduce_retracing=True)  # the last batch is smaller
        def correct(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
            predicted = tf.argmax(model(x, training=False), axis=-1, output_type=tf.int64)
            labels = tf.cast(tf.reshape(y, [-1]), tf.int64)
            return tf.reduce_sum(tf.cast(predicted == labels, tf.int64))

        self.step, self.agree, self.correct = step, agree, correct

    def accuracy(self, validation: tf.data.Dataset) -> float:
        """Validation accuracy, each process over the whole set (the weights are mirrored)."""
        right = total = 0
        for x, y in validation:
            right += int(self.correct(x, y))
            total += int(tf.shape(x)[0])
        return right / total if total else 0.0


def _train(
    loop: _Loop,
    monitor: TrialMonitor,
    train: tf.data.Dataset,
    validation: tf.data.Dataset,
    epochs: int,
    per_call: int,
    rate: Callable[[int], None],
) -> str:
    """The epochs of a group trial. Whether to leave an epoch or the loop is decided only on
    all-reduced flags, so every process runs the same collectives and stops at the same step."""
    options = tf.data.Options()  # each process keeps its share of every global batch
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    distributed = loop.strategy.experimental_distribute_dataset(train.with_options(options))
    steps = int(train.cardinality())
    if steps < 0:
        raise ValueError("a group trial needs a training set of known length (tf.data cardinality)")
    monitor.on_train_begin()
    try:
        for epoch in range(epochs):
            rate(epoch)  # the epoch's learning rate (lr_schedule)
            monitor.on_epoch_begin(epoch)
            iterator = iter(distributed)
            loss, cut, done = 0.0, False, 0
            while done < steps:
                count = min(per_call, steps - done)
                summed = loop.step(iterator, tf.constant(_flag(monitor)), tf.constant(count))
                done += count
                loss = float(summed[0])
                monitor.on_train_batch_end(done - 1, {"loss": loss})
                if float(summed[1]) > 0:
                    cut = True  # every process saw the same sum: all leave at this step
                    break
            monitor.on_test_begin()
            if cut and monitor.stopped is None:
                monitor.stop("interrupted")  # another process of the group asked to stop
            if monitor.stopped not in ("interrupted", "nan"):
                accuracy = loop.accuracy(validation)  # local: no collective
                monitor.on_epoch_end(epoch, {"loss": loss, "val_accuracy": accuracy})
            if cut or float(loop.agree(tf.constant(_flag(monitor)))) > 0:
                if monitor.stopped is None:
                    monitor.stop("interrupted")
                break
    finally:
        monitor.on_train_end()
    return monitor.stopped or "complete"


def _flag(monitor: TrialMonitor) -> float:
    """1.0 when this process wants the group to stop (its monitor stopped, or Ctrl-C)."""
    return 1.0 if monitor.stopped is not None or stop_requested() else 0.0
