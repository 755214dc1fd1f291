"""Which trained models stay on disk, ``best_model.keras``, and the pick's test accuracy."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Container, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autotune._stored import TEST_ATTR
from autotune.data import make_eval_dataset
from autotune.space import TrialConfig
from autotune.train import gradient_names, release_memory

if TYPE_CHECKING:
    import keras
    import optuna

    from autotune.data import Dataset
    from autotune.results import RankedTrial
    from autotune.spec import RunSpec

logger = logging.getLogger(__name__)

KEEP_TOP = 3
"""Models kept on disk: the accuracy/seconds Pareto front plus this many top-ranked trials."""


def _model_path(directory: Path, number: int) -> Path:
    return directory / "models" / f"trial_{number}.keras"


def kept_numbers(ranked: Sequence[RankedTrial]) -> set[int]:
    """The trials whose models are kept: the accuracy/seconds Pareto front and the
    :data:`KEEP_TOP` top-ranked trials."""
    return {r.number for r in ranked if r.pareto} | {r.number for r in ranked[:KEEP_TOP]}


def may_win(ranked: Sequence[RankedTrial], number: int) -> bool:
    """Whether trial ``number``'s model is kept (see :func:`kept_numbers`)."""
    return number in kept_numbers(ranked)


def save_model(directory: Path, number: int, model: keras.Model) -> None:
    """Save as ``models/trial_N.keras``, atomically (written under a name that
    :func:`keep_models` of another process leaves alone, then renamed)."""
    models = directory / "models"
    models.mkdir(parents=True, exist_ok=True)
    partial = models / f"trial_{number}.saving-{os.getpid()}.keras"
    model.save(partial)
    os.replace(partial, _model_path(directory, number))


def keep_models(
    directory: Path,
    ranked: list[RankedTrial],
    number: int,
    model: keras.Model | None,
    *,
    saving: Container[int] = (),
) -> None:
    """Save the new trial's model if it may become the pick; drop models that cannot.

    ``saving``: trials recorded in the study whose worker may still be saving the model (the
    pool's parent passes its running trials): a top trial among them keeps the old
    ``best_model.keras`` until its own end rewrites it.
    """
    keep = kept_numbers(ranked)
    models = directory / "models"
    for leftover in directory.glob("**/*.partial.keras"):
        leftover.unlink(missing_ok=True)
    if model is not None and number in keep:
        save_model(directory, number, model)
    if models.exists():
        for path in models.glob("trial_*.keras"):
            stem = path.stem.removeprefix("trial_")
            if stem.isdigit() and int(stem) not in keep:
                path.unlink(missing_ok=True)
    if not ranked:
        return
    if _model_path(directory, ranked[0].number).exists():
        partial = directory / "best_model.partial.keras"
        shutil.copyfile(_model_path(directory, ranked[0].number), partial)
        os.replace(partial, directory / "best_model.keras")
    elif ranked[0].number in saving:
        return  # its worker saves it, then says so; that end copies it
    elif (directory / "best_model.keras").exists():
        # The pick changed to a trial whose model is not here (trained elsewhere, or dropped
        # under another rank rule): a stale file would contradict best.yaml.
        logger.warning(
            "no saved model for top trial %d; removed the stale best_model.keras",
            ranked[0].number,
        )
        (directory / "best_model.keras").unlink()


def evaluate_test(
    spec: RunSpec,
    study: optuna.Study,
    dataset: Dataset,
    directory: Path,
    ranked: list[RankedTrial],
) -> float | None:
    """Evaluate the top-ranked trial's model on the test split, once per pick."""
    if not spec.data.test or not ranked or dataset.x_test is None or dataset.y_test is None:
        return None
    top = ranked[0]
    known = study.user_attrs.get(TEST_ATTR)
    if isinstance(known, dict) and known.get("trial") == top.number:
        return float(known["accuracy"])
    path = _model_path(directory, top.number)
    if not path.exists():
        logger.warning("no saved model for trial %d; test accuracy not measured", top.number)
        return None
    import keras

    baseline = gradient_names()
    model = keras.models.load_model(path)
    config = TrialConfig(top.config)
    test = make_eval_dataset(dataset, config, dataset.x_test, dataset.y_test)
    _, accuracy = model.evaluate(test, verbose=0)
    study.set_user_attr(TEST_ATTR, {"trial": top.number, "accuracy": float(accuracy)})
    del model
    release_memory(since=baseline)
    return float(accuracy)
