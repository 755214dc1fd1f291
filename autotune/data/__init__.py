"""Data sets and the per-trial tf.data pipeline.

``load_dataset`` reads the run file's ``data:`` section (through ``autotune.data.sources``)
into a split ``Dataset`` whose examples are in memory or memory-mapped from a disk cache;
``make_datasets`` turns it and a trial's config into training and validation pipelines that
read batches by index and normalize them in the map.
"""

from autotune.data._dataset import Dataset
from autotune.data._errors import DataError
from autotune.data._load import load_dataset
from autotune.data._pipeline import TrialData, make_datasets, make_eval_dataset

__all__ = [
    "DataError",
    "Dataset",
    "TrialData",
    "load_dataset",
    "make_datasets",
    "make_eval_dataset",
]
