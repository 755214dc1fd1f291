"""Model families built from a TrialConfig: ``mlp`` and ``cnn``. Never compiles or fits."""

from autotune.models._build import build_model
from autotune.models._family import FAMILIES, choose_family

__all__ = ["FAMILIES", "build_model", "choose_family"]
