"""The joint search space: parameter forms, conditions, and ``suggest(trial) -> TrialConfig``."""

from autotune.space._catalogue import (
    AUGMENTATION_OPS,
    AUTO,
    AUTO_STEPS_PER_EXECUTION,
    CATALOGUE,
    HOST_AUGMENTATION,
    IMAGE_ONLY_OPS,
    LR_SCHEDULES,
    OUTSIDE_THE_GRAPH,
    PRECISIONS,
    SPEED_KNOBS,
    check,
    defaults,
)
from autotune.space._config import TrialConfig
from autotune.space._dimensions import Choice, Dimension, Fixed, Float, Int, Value
from autotune.space._space import Space

__all__ = [
    "AUGMENTATION_OPS",
    "AUTO",
    "AUTO_STEPS_PER_EXECUTION",
    "CATALOGUE",
    "HOST_AUGMENTATION",
    "IMAGE_ONLY_OPS",
    "LR_SCHEDULES",
    "OUTSIDE_THE_GRAPH",
    "PRECISIONS",
    "SPEED_KNOBS",
    "Choice",
    "Dimension",
    "Fixed",
    "Float",
    "Int",
    "Space",
    "TrialConfig",
    "Value",
    "check",
    "defaults",
]
