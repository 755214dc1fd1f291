"""Human text of a run file as autotune will run it, for ``autotune validate``."""

from __future__ import annotations

from autotune.space import Choice, Dimension, Fixed, Int
from autotune.spec._custom import names_code
from autotune.spec._schema import RunSpec, TrainSpec
from autotune.spec._space import parse_space
from autotune.spec._values import conditions


def describe(spec: RunSpec) -> str:
    """Every section of ``spec`` resolved: defaults filled in, each dimension spelled out.

    Example:
        >>> from autotune.spec import load_run_mapping
        >>> spec = load_run_mapping({"data": {"dataset": "digits"}, "space": {"width": [16, 32]}})
        >>> [line.split()[:2] for line in describe(spec).splitlines() if "width" in line]
        [['width', 'one']]
    """
    parsed = parse_space(spec.space, custom=names_code(spec))
    full = parsed.dims if spec.custom_objective else parsed.full()
    searched = [name for name, dim in full.items() if not isinstance(dim, Fixed)]
    where = f" (from {spec.file})" if spec.file is not None else ""
    lines = [
        f"study: {spec.study or '(unnamed)'}{where}",
        f"seed: {spec.seed}",
        f"data: {_data(spec)}",
        f"model: {spec.model}",
        *([f"custom_objective: {spec.custom_objective}"] if spec.custom_objective else []),
        f"space: {len(searched)} of {len(full)} dimensions searched",
    ]
    width = max((len(name) for name in full), default=0)
    for name, dim in full.items():
        origin = "" if name in parsed.dims else "  (default)"
        lines.append(f"  {name:<{width}}  {_dimension(dim)}{origin}")
    train = spec.train
    probe = train.probe
    lines.append(
        f"train: {train.epochs} epochs, devices {_plain(train.devices)}, "
        + (
            f"throughput probe of {probe.steps} steps" + _skip(probe.skip_slower)
            if probe is not None
            else "no throughput probe"
        )
    )
    lines.append(_workers(train))
    lines.append(f"search: {_search(spec)}")
    rank = spec.rank
    target = f", target {rank.target:g}" if rank.target is not None else ""
    lines.append(
        f"rank: by {rank.by}, min_accuracy {_plain(rank.min_accuracy)}, "
        f"tolerance {rank.tolerance:g}{target}"
    )
    lines.append(f"storage: {spec.storage or 'default (chosen by the engine)'}")
    return "\n".join(lines)


def _skip(ratio: float | None) -> str:
    return "" if ratio is None else f" (skips knobs {ratio:g}x slower than the best probed)"


STREAMABLE = ("image_dir", "npy", "npz", "csv", "tfrecord")
"""Data sets that can be read through the disk cache (``data.stream``)."""


def _data(spec: RunSpec) -> str:
    data = spec.data
    parts = [data.dataset + (f" from {data.path}" if data.path else "")]
    if data.target:
        parts.append(f"target column {data.target}")
    for field in ("train_size", "validation_size", "validation_split", "image_size"):
        value = getattr(data, field)
        if value is not None:
            parts.append(f"{field} {_plain(value)}")
    parts.append("test set evaluated" if data.test else "no test set")
    if data.stream is not False and data.dataset in STREAMABLE:
        where = data.cache_dir or "<results dir>/.cache/data"
        how = "streamed" if data.stream is True else "streamed when over 1 GiB"
        parts.append(f"{how} from a disk cache in {where}")
    if data.on_bad_file == "skip":
        parts.append("unreadable files left out")
    return ", ".join(parts)


def _search(spec: RunSpec) -> str:
    search = spec.search
    parts = [f"sampler {search.sampler}", f"pruner {search.resolved_pruner}"]
    for label, options in (("sampler", search.sampler_options), ("pruner", search.pruner_options)):
        if options:
            parts.append(f"{label}_options {_plain(options)}")
    parts.append(f"objective {search.objective}")
    parts.append(f"{search.trials} trials")
    if search.budget is not None:
        parts.append(f"budget {_duration(search.budget)}")
    if search.start_with:
        parts.append(f"{len(search.start_with)} start_with configuration(s)")
    return ", ".join(parts)


def _dimension(dim: Dimension) -> str:
    if isinstance(dim, Fixed):
        text = f"{_plain(dim.value)} (fixed)"
    elif isinstance(dim, Choice):
        text = "one of " + ", ".join(_plain(choice) for choice in dim.choices)
    else:
        kind = "int" if isinstance(dim, Int) else "float"
        text = f"{kind} range {dim.low:g} .. {dim.high:g}"
        if dim.log:
            text += ", log scale"
        if dim.step is not None and not (isinstance(dim, Int) and dim.step == 1):
            text += f", step {dim.step:g}"
    if dim.when:
        clauses = [
            f"{name} is {' or '.join(_plain(v) for v in wanted)}"
            for name, wanted in conditions(dim)
        ]
        text += ", when " + " and ".join(clauses)
    return text


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _workers(train: TrainSpec) -> str:
    timeout = "none" if train.trial_timeout is None else f"{train.trial_timeout:g}s"
    rss = "none" if train.worker_rss_limit is None else f"{train.worker_rss_limit:g} MiB"
    cpus = "" if train.logical_cpus is None else f", logical_cpus {train.logical_cpus}"
    if train.processes_per_trial > 1:
        cpus += f", processes_per_trial {train.processes_per_trial}"
    lr = train.scale_lr_with_batch
    scaling = f"linear (reference batch {train.lr_reference_batch})" if lr == "linear" else lr
    return (
        f"workers: devices_per_trial {train.devices_per_trial}{cpus}, trial_timeout {timeout}, "
        f"max_trials_per_worker {train.max_trials_per_worker}, worker_rss_limit {rss}, "
        f"scale_lr_with_batch {scaling}"
    )
