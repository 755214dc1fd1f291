"""Keeping the study note in Optuna Dashboard current: written after every finished trial."""

from __future__ import annotations

import functools
import logging
import platform
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from autotune.results import study_note

if TYPE_CHECKING:
    import optuna

    from autotune.results import RankedTrial
    from autotune.spec import RunSpec

logger = logging.getLogger(__name__)


@functools.cache
def machine_summary() -> str:
    """One line about this machine: host, system, CPUs, memory, GPUs and TensorFlow.

    Example:
        >>> machine_summary()  # doctest: +SKIP
        'host lab-3, Linux x86_64, 16 CPUs, 125 GiB RAM, GPUs: NVIDIA H100, TensorFlow 2.21.0'
    """
    import tensorflow as tf

    memory = psutil.virtual_memory().total / 2**30
    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except Exception:  # a device without details
            details = {}
        gpus.append(str(details.get("device_name", gpu.name)))
    parts = [
        f"host {socket.gethostname()}",
        f"{platform.system()} {platform.machine()}",
        f"{psutil.cpu_count(logical=True)} CPUs",
        f"{memory:.0f} GiB RAM",
        f"GPUs: {', '.join(gpus)}" if gpus else "no GPU",
        f"TensorFlow {tf.__version__}",
    ]
    return ", ".join(parts)


def refresh_note(
    study: optuna.Study,
    spec: RunSpec,
    ranked: Sequence[RankedTrial],
    trials: Sequence[optuna.trial.FrozenTrial] | None = None,
) -> bool:
    """Re-write the study note Optuna Dashboard shows, when it changed. ``trials``: the study
    as the caller just read it (read now when None).

    A note that cannot be written is logged and left as it was: the note never ends a study.

    Returns:
        Whether the note was written.
    """
    try:
        from optuna_dashboard import get_note, save_note

        devices = spec.train.devices
        shown = devices if isinstance(devices, str) else ", ".join(map(str, devices))
        machine = f"{machine_summary()}; train.devices: {shown}"
        body = study_note(
            study_name=study.study_name,
            run_file=None if spec.file is None else str(spec.file.resolve()),
            machine=machine,
            objective=study.metric_names or [spec.search.objective],
            rank=spec.rank,
            ranked=ranked,
            trials=study.get_trials(deepcopy=False) if trials is None else trials,
        )
        if get_note(study) == body:
            return False
        save_note(study, body)
        return True
    except Exception:
        logger.warning("could not write the study note for Optuna Dashboard", exc_info=True)
        return False


def write_report_safely(directory: Path, study: optuna.Study, spec: RunSpec) -> list[Path]:
    """Write ``report.html`` and its PNGs at the end of a run; a failure is logged, not raised
    (every result file is already written by then).

    Returns:
        The files written (none when the report failed).
    """
    from autotune.results import write_report

    run_file = None if spec.file is None else str(spec.file)
    try:
        return write_report(directory, study, spec.rank, run_file=run_file).files
    except Exception:
        logger.warning("could not write report.html in %s", directory, exc_info=True)
        return []
