"""Device assignment per worker, replica pinning and learning-rate scaling (plain functions)."""

from __future__ import annotations

import pytest

from autotune.train import WorkerDevices, pin_for_replicas, plan_workers, scaled_learning_rate


def test_one_worker_per_gpu_by_default() -> None:
    plan = plan_workers(devices="auto", devices_per_trial=1, gpus=4, cores=16)
    assert [w.gpus for w in plan] == [(0,), (1,), (2,), (3,)]
    assert [w.worker for w in plan] == [1, 2, 3, 4]
    assert all(w.threads == 4 and w.trial_devices() == ("/gpu:0",) for w in plan)


def test_gpu_groups_for_multi_gpu_trials() -> None:
    pairs = plan_workers(devices="auto", devices_per_trial=2, gpus=4, cores=16)
    assert [w.gpus for w in pairs] == [(0, 1), (2, 3)]
    assert pairs[1].trial_devices() == ("/gpu:0", "/gpu:1")  # renumbered inside the worker
    assert pairs[1].environment()["CUDA_VISIBLE_DEVICES"] == "2,3"
    everything = plan_workers(devices="auto", devices_per_trial="all", gpus=4, cores=16)
    assert [w.gpus for w in everything] == [(0, 1, 2, 3)]
    assert everything[0].threads == 16


def test_listed_gpus_only() -> None:
    plan = plan_workers(devices=[1, 3], devices_per_trial=1, gpus=4, cores=8)
    assert [w.gpus for w in plan] == [(1,), (3,)]


def test_refusals_say_what_fits() -> None:
    with pytest.raises(ValueError, match="GPU 5 is not visible"):
        plan_workers(devices=[0, 5], devices_per_trial=1, gpus=2, cores=8)
    with pytest.raises(ValueError, match="at most 2 workers"):
        plan_workers(devices="auto", devices_per_trial=2, gpus=4, cores=8, workers=3)
    with pytest.raises(ValueError, match=r"set train\.logical_cpus"):
        plan_workers(devices="cpu", devices_per_trial=2, gpus=0, cores=8)


def test_cpu_workers_split_the_cores() -> None:
    plan = plan_workers(devices="auto", devices_per_trial=1, gpus=0, cores=8, workers=2)
    assert [(w.worker, w.gpus, w.threads) for w in plan] == [(1, (), 4), (2, (), 4)]
    env = plan[0].environment()
    assert env["CUDA_VISIBLE_DEVICES"] == "-1" and env["TF_NUM_INTRAOP_THREADS"] == "4"
    assert (
        plan_workers(devices="cpu", devices_per_trial=1, gpus=2, cores=3, workers=4)[0].threads == 1
    )


def test_logical_cpus_make_multi_device_cpu_trials() -> None:
    (plan,) = plan_workers(devices="cpu", devices_per_trial="all", gpus=0, cores=2, logical_cpus=2)
    assert plan == WorkerDevices(worker=1, gpus=(), per_trial=2, logical_cpus=2, threads=2)
    assert plan.trial_devices() == ("/cpu:0", "/cpu:1")


def test_multi_device_trials_pin_steps_per_execution_and_jit() -> None:
    assert pin_for_replicas(2, steps_per_execution=4, jit_compile=False) == (
        1,
        False,
        {"steps_per_execution": [4, 1]},
    )
    assert pin_for_replicas(1, steps_per_execution=4, jit_compile=True) == (4, True, {})


def test_learning_rate_scales_only_when_asked() -> None:
    assert scaled_learning_rate(0.01, batch_size=128) == 0.01
    assert scaled_learning_rate(0.01, batch_size=128, rule="linear", reference_batch=32) == 0.04
    with pytest.raises(ValueError, match="none or linear"):
        scaled_learning_rate(0.01, batch_size=128, rule="sqrt")
