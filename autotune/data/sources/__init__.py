"""Where examples come from: one private module per kind of source, apart from the per-trial
pipeline.

Built-in data sets (digits, MNIST, Fashion-MNIST, CIFAR-10) and csv files are read whole into
memory. Image folders and ``.npy`` arrays are listed without reading their examples
(``list_image_dir``, ``list_npy``), split by row, and only the rows a run uses are read
(``read_listing``): into memory, or into one disk cache that every trial and worker maps.
"""

from autotune.data.sources._cache import default_cache_dir, read_listing
from autotune.data.sources._csv import csv_files, list_csv
from autotune.data.sources._image_files import SUFFIXES, list_image_dir
from autotune.data.sources._listing import STREAM_ABOVE_BYTES, Listing, Part, streamed
from autotune.data.sources._npy import list_npy
from autotune.data.sources._npz import list_npz
from autotune.data.sources._tf_dataset import load_tf_dataset
from autotune.data.sources._tfrecord import list_tfrecord

__all__ = [
    "STREAM_ABOVE_BYTES",
    "SUFFIXES",
    "Listing",
    "Part",
    "csv_files",
    "default_cache_dir",
    "list_csv",
    "list_image_dir",
    "list_npy",
    "list_npz",
    "list_tfrecord",
    "load_tf_dataset",
    "read_listing",
    "streamed",
]
