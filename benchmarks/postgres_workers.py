"""Is PostgreSQL the bottleneck when many workers share one study? Trials/minute, 1-2-4 workers.

W worker processes share one study in a fresh PostgreSQL database and run ``TRIALS`` trials in
all. Each trial does what an autotune trial does with the storage, around a cheap objective
(``--cost`` seconds of sleep standing in for training; sleep, so that the two shared CPU cores
are not what limits the scaling). Compared, in the same run:

- ``autotune``: the ``autotune worker`` protocol: ``ResilientRDBStorage`` (heartbeats,
  reconnection), the study lock, reserved trials popped by ``claim``, a heartbeat thread per
  trial, 8 user attrs, 3 intermediate values, ``tell``.
- ``optuna``: plain Optuna on the same server: ``study.optimize`` with a heartbeat
  ``RDBStorage``, each worker running ``TRIALS / W`` trials (no exact total, no reservation).

Reported per mode and worker count: trials/minute (median over repeats), the speed-up over one
worker (ideal: W), and the storage's time per trial (wall time of a worker's trial minus the
objective's cost). Usage::

    python benchmarks/postgres_workers.py            # 1, 2, 4 workers, 48 trials, 3 repeats
    python benchmarks/postgres_workers.py --smoke    # seconds; what the test suite runs

Needs PostgreSQL (``--server``, default postgresql://postgres@127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("autotune", "optuna")


def _settings() -> Any:
    from autotune.engine.storages._server import StorageSettings

    return StorageSettings(heartbeat_interval=1, grace_period=10, max_retries=1)


def _objective_io(trial: Any, cost: float) -> float:
    """What an autotune trial writes, around ``cost`` seconds of work."""
    x = trial.suggest_float("x", -10.0, 10.0)
    width = trial.suggest_categorical("width", [16, 32, 64])
    for name in ("config", "devices", "end", "reason", "accuracy", "wall_seconds", "epochs"):
        trial.set_user_attr(name, name)
    for step in range(3):
        trial.report(-abs(x) + step, step)
        if cost:
            time.sleep(cost / 3)
    trial.set_user_attr("owner", {"pid": os.getpid()})
    return -(x**2) + width / 64


def _worker(
    mode: str, url: str, trials: int, share: int, cost: float, q: Any, ready: Any, go: Any
) -> None:
    try:
        _work(mode, url, trials, share, cost, q, ready, go)
    except BaseException as error:  # tell the parent rather than leave it waiting
        text = f"{type(error).__name__}: {error}"
        ready.put(text)
        q.put(text)
        raise


def _work(
    mode: str, url: str, trials: int, share: int, cost: float, q: Any, ready: Any, go: Any
) -> None:
    import optuna

    from autotune.engine.reserved._claim import claim, reserve_shared, study_lock
    from autotune.engine.storages._server import heartbeat, open_server_storage

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if mode == "autotune":
        storage: Any = open_server_storage(url, _settings())
    else:
        storage = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=10)
    sampler = optuna.samplers.RandomSampler(seed=os.getpid())
    with study_lock(storage, "bench"):
        study = optuna.create_study(
            study_name="bench",
            storage=storage,
            load_if_exists=True,
            sampler=sampler,
            direction="maximize",
        )
    ready.put(os.getpid())
    go.wait()
    started = time.perf_counter()
    seconds: list[float] = []
    if mode == "autotune":
        reserve_shared(study, trials)
        while True:
            begun = time.perf_counter()
            got = claim(study, total=trials)
            if got is None:
                break
            with heartbeat(study, got._trial_id):
                value = _objective_io(got, cost)
            study.tell(got, value)
            seconds.append(time.perf_counter() - begun)
    else:

        def objective(trial: optuna.Trial) -> float:
            return _objective_io(trial, cost)

        def timed(study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
            assert frozen.datetime_start and frozen.datetime_complete
            seconds.append((frozen.datetime_complete - frozen.datetime_start).total_seconds())

        study.optimize(objective, n_trials=share, callbacks=[timed])
    q.put({"wall": time.perf_counter() - started, "trial_seconds": seconds})


def _database(server: str) -> tuple[str, Any]:
    import psycopg

    name = f"autotune_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}", admin


def measure(
    mode: str, workers: int, trials: int, cost: float, server: str, *, threads: bool = False
) -> dict[str, Any]:
    """One study: W processes (threads in smoke mode), ``trials`` in all; trials/minute from
    the moment all are connected to the last finish."""
    import optuna

    url, admin = _database(server)
    name = url.rsplit("/", 1)[1]
    try:
        # Optuna's tables exist before the workers start: plain Optuna races creating them
        optuna.storages.RDBStorage(url).engine.dispose()
        ctx: Any = _Threads() if threads else mp.get_context("spawn")
        queue, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
        shares = [trials // workers + (i < trials % workers) for i in range(workers)]
        procs = [
            ctx.Process(target=_worker, args=(mode, url, trials, shares[i], cost, queue, ready, go))
            for i in range(workers)
        ]
        for proc in procs:
            proc.start()
        for _ in procs:  # every worker has imported, connected and joined the study
            got = ready.get(timeout=600)
            if isinstance(got, str):
                go.set()
                raise RuntimeError(f"a worker failed: {got}")
        started = time.perf_counter()
        go.set()
        results = [queue.get(timeout=600) for _ in procs]
        failed = [r for r in results if isinstance(r, str)]
        if failed:
            raise RuntimeError(f"a worker failed: {failed[0]}")
        wall = time.perf_counter() - started
        for proc in procs:
            proc.join(timeout=60)
        study = optuna.load_study(study_name="bench", storage=url)
        done = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
        per_trial = [s for r in results for s in r["trial_seconds"]]
        return {
            "trials": len(done),
            "wall_seconds": wall,
            "trials_per_minute": 60.0 * len(done) / wall,
            "storage_ms_per_trial": 1000.0 * (statistics.median(per_trial) - cost),
        }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class _Threads:
    """``multiprocessing``'s names for threads: the smoke run skips process start-up."""

    def __init__(self) -> None:
        import queue
        import threading

        self.Queue, self.Event = queue.Queue, threading.Event
        self.Process = threading.Thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--smoke", action="store_true", help="1 and 2 worker threads, a few trials (seconds)"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--trials", type=int, default=48)
    parser.add_argument("--cost", type=float, default=0.25, help="seconds per trial (sleep)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--out", type=Path, default=RESULTS / "postgres_workers.json")
    args = parser.parse_args(argv)
    if args.smoke:
        args.workers, args.trials, args.cost, args.repeats = [1, 2], 6, 0.0, 1
        import autotune.engine  # noqa: F401  (TensorFlow imports in the main thread)
    rows: list[dict[str, Any]] = []
    for mode in MODES:
        one: float | None = None
        for workers in args.workers:
            runs = [
                measure(mode, workers, args.trials, args.cost, args.server, threads=args.smoke)
                for _ in range(args.repeats)
            ]
            rate = statistics.median(r["trials_per_minute"] for r in runs)
            one = rate if workers == args.workers[0] else one
            row = {
                "mode": mode,
                "workers": workers,
                "trials_per_minute": rate,
                "speedup": rate / one if one else None,
                "storage_ms_per_trial": statistics.median(r["storage_ms_per_trial"] for r in runs),
                "trials": [r["trials"] for r in runs],
                "runs": runs,
            }
            rows.append(row)
            print(
                f"{mode:9} {workers} workers: {rate:8.1f} trials/min  "
                f"x{row['speedup']:.2f}  storage {row['storage_ms_per_trial']:6.1f} ms/trial  "
                f"trials {row['trials']}",
                flush=True,
            )
    document = {
        "benchmark": "postgres_workers",
        "smoke": args.smoke,
        "workers_are": "threads" if args.smoke else "processes",
        "trials": args.trials,
        "cost_seconds": args.cost,
        "repeats": args.repeats,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared, noisy)",
        "python": sys.version.split()[0],
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.out}")
    inexact = [r for r in rows if r["mode"] == "autotune" and set(r["trials"]) != {args.trials}]
    return 1 if inexact else 0


if __name__ == "__main__":
    raise SystemExit(main())
