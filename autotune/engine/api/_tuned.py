"""Study: what ``autotune.tune`` returns, a finished study read back for Python users."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotune._stored import TEST_ATTR
from autotune.results import leaderboard_table, rank_trials, trials_table
from autotune.space import TrialConfig
from autotune.train import TrialResult

if TYPE_CHECKING:
    import keras
    import optuna
    import pandas as pd

    from autotune.engine.loop._run import RunReport
    from autotune.results import RankedTrial
    from autotune.space import Space
    from autotune.spec import RankSpec

_ENGINE_ATTRS = ("config", "owner", "seed", "rungs")
"""Attrs the engine sets on a trial besides its result (not a result's extras)."""


@dataclass(frozen=True, eq=False)
class Study:
    """A tuned study: its ranking, its best configuration and the best trained model.

    The study lives in its Optuna storage (``storage``) and its results folder
    (``directory``: ``trials.csv``, ``leaderboard.csv``, ``best.yaml``, ``best_model.keras``),
    so ``autotune dashboard <directory>`` and ``autotune report <directory>`` work on it as on a
    study the command line ran.

    Attributes:
        name: the study's name.
        directory: its results folder.
        storage: its Optuna storage URL.
        space: the search space the trials were drawn from (a HyperModel's, as declared).
        report: what the run did (trials done, interrupted, abandoned trials, files written).
        optuna: the ``optuna.Study`` itself (``study.optuna.trials_dataframe()``).
    """

    name: str
    directory: Path
    storage: str
    space: Space
    report: RunReport
    optuna: optuna.Study
    _rank: RankSpec

    def ranked(self) -> list[RankedTrial]:
        """The completed trials, best first, ranked by the study's ``rank`` rule."""
        return rank_trials(self.optuna.get_trials(deepcopy=False), self._rank)

    def leaderboard(self) -> pd.DataFrame:
        """The ranked trials as a DataFrame, the same table as ``leaderboard.csv``."""
        test = self.optuna.user_attrs.get(TEST_ATTR)
        return leaderboard_table(
            self.ranked(),
            test=test if isinstance(test, dict) else None,
            time_to_target=self._rank.target is not None,
            metric=self._rank.metric if self._rank.by == "metric" else None,
        )

    def trials(self) -> pd.DataFrame:
        """Every trial with its state and, for those that did not complete, the reason."""
        return trials_table(self.optuna.get_trials(deepcopy=False))

    @property
    def best(self) -> TrialConfig | None:
        """The top-ranked trial's configuration (what ``best.yaml`` fixes), or None."""
        ranked = self.ranked()
        return TrialConfig(ranked[0].config) if ranked else None

    @property
    def best_result(self) -> TrialResult | None:
        """The top-ranked trial's measurements, or None when no trial completed."""
        ranked = self.ranked()
        if not ranked:
            return None
        attrs = self.optuna.trials[ranked[0].number].user_attrs
        return TrialResult.from_user_attrs(attrs, not_extras=_ENGINE_ATTRS)

    def best_model(self, **load_options: Any) -> keras.Model:
        """The top-ranked trial's trained model, loaded from ``best_model.keras``.

        Like KerasTuner's ``tuner.get_best_models()[0]``. ``load_options`` go to
        ``keras.models.load_model`` (``custom_objects=...`` for custom layers).

        Raises:
            FileNotFoundError: no trial completed, or the top trial's model was not saved.
        """
        import keras

        path = self.directory / "best_model.keras"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no saved model of a top-ranked trial")
        return keras.models.load_model(path, **load_options)

    def best_hyperparameters(self) -> Any:
        """The top trial's values as ``keras_tuner.HyperParameters`` (``hypermodel.build(hp)``).

        Raises:
            LookupError: no trial completed.
        """
        from autotune.space._keras_tuner import keras_tuner_module

        best = self.best
        if best is None:
            raise LookupError(f"study {self.name}: no trial completed")
        hp = keras_tuner_module().HyperParameters()
        hp.values = dict(best)
        return hp
