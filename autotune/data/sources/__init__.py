"""Data sources read by index: listed without reading their examples, split by row, and read
into memory or into one disk cache that every trial and worker maps.

``list_source`` lists what a run file's ``data:`` names (image folders, ``.npy`` arrays);
``read_listing`` splits and reads it.
"""

from autotune.data.sources._cache import STREAM_ABOVE_BYTES, default_cache_dir, read_listing
from autotune.data.sources._image_files import SUFFIXES, list_image_dir
from autotune.data.sources._listing import Listing, Part
from autotune.data.sources._npy import list_npy

__all__ = [
    "STREAM_ABOVE_BYTES",
    "SUFFIXES",
    "Listing",
    "Part",
    "default_cache_dir",
    "list_image_dir",
    "list_npy",
    "read_listing",
]
