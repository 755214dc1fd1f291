#!/usr/bin/env bash
# GPU check for a machine with TensorFlow's GPU build (pip install 'tensorflow[and-cuda]').
#
#   bash benchmarks/gpu_check.sh            # from the repository root, autotune installed
#
# Under 8 minutes on one H100. It
#   1. lists the GPUs TensorFlow sees and checks mixed precision (float16 compute, float32
#      variables, ops placed on the GPU) with a short Keras fit;
#   2. runs a study with one worker per GPU (devices_per_trial: 1);
#   3. runs a study with every GPU in each trial (devices_per_trial: all; MirroredStrategy when
#      there are several GPUs);
#   4. checks each trial's placement (user attrs devices/device_names/strategy) and prints
#      trials/minute and examples/second for both studies;
#   5. with 2 or more GPUs: runs a study whose trials each train in a group of 2 processes,
#      one GPU each (processes_per_trial: 2, MultiWorkerMirroredStrategy on 127.0.0.1), and
#      checks each trial's strategy, replicas and the group's devices.
# Everything it prints goes to benchmarks/results/gpu_<GPU name>/ as well (check.log,
# summary.json, and each study's results folder).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
TRIALS=${TRIALS:-12}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu_check: nvidia-smi not found: this script is for machines with NVIDIA GPUs" >&2
  exit 2
fi
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -c 'A-Za-z0-9.\n-' '_')
OUT="benchmarks/results/gpu_${GPU_NAME}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
exec > >(tee "$OUT/check.log") 2>&1
echo "gpu_check: $(nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader | paste -sd';')"

# 1. Devices and mixed precision, outside autotune.
"$PYTHON" - "$WORK" <<'PY'
import sys, time
import numpy as np
import tensorflow as tf, keras
gpus = tf.config.list_physical_devices("GPU")
print(f"tensorflow {tf.__version__}: {len(gpus)} GPU(s):",
      [tf.config.experimental.get_device_details(g).get("device_name") for g in gpus])
if not gpus:
    sys.exit("gpu_check: TensorFlow sees no GPU (CPU-only build, or CUDA libraries missing)")
for g in gpus:
    tf.config.experimental.set_memory_growth(g, True)
keras.mixed_precision.set_global_policy("mixed_float16")
x = np.random.default_rng(0).normal(size=(8192, 512)).astype("float32")
y = (x[:, :8].sum(axis=1) > 0).astype("int32")
model = keras.Sequential([keras.Input((512,)), keras.layers.Dense(2048, activation="relu"),
                          keras.layers.Dense(2048, activation="relu"),
                          keras.layers.Dense(2, dtype="float32")])
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, batch_size=512, epochs=1, verbose=0)
started = time.perf_counter()
history = model.fit(x, y, batch_size=512, epochs=3, verbose=0)
seconds = time.perf_counter() - started
dense = model.layers[0]
assert dense.compute_dtype == "float16" and dense.kernel.dtype == "float32", "mixed precision"
assert np.isfinite(history.history["loss"][-1]), "mixed-precision loss is not finite"
assert "GPU" in dense.kernel.value.device.upper(), f"kernel on {dense.kernel.value.device}"
print(f"mixed precision OK: compute float16, variables float32, kernel on "
      f"{dense.kernel.value.device}; {3 * len(x) / seconds:,.0f} examples/s")
# A small image data set for the studies (learnable: the label is in the pixels).
rng = np.random.default_rng(0)
labels = rng.integers(0, 10, size=30000)
images = rng.integers(0, 96, size=(30000, 28, 28, 1)).astype("uint8")
for k in range(10):
    images[labels == k, 2 * k : 2 * k + 3, 4:24, 0] += 150
np.savez(f"{sys.argv[1]}/synthetic.npz", x_train=images, y_train=labels)
PY

write_run() {  # $1 file, $2 study, $3 devices_per_trial, $4 processes_per_trial (default 1)
  cat > "$1" <<YAML
study: $2
seed: 0
data: {dataset: npz, path: $WORK/synthetic.npz, validation_size: 5000}
model: cnn
space:
  depth: [2, 3]
  width: [32, 64]
  learning_rate: {low: 3.0e-4, high: 3.0e-3, log: true}
  batch_size: [256, 512, 1024]
train: {epochs: 3, devices: auto, devices_per_trial: $3, processes_per_trial: ${4:-1}}
search: {sampler: tpe, pruner: none, trials: $TRIALS, budget: 3m}
YAML
}

for mode in per_gpu all; do
  per_trial=1; [ "$mode" = all ] && per_trial=all
  write_run "$WORK/$mode.yaml" "gpu_$mode" "$per_trial"
  echo "== study gpu_$mode: devices_per_trial: $per_trial"
  "$PYTHON" -m autotune run "$WORK/$mode.yaml" --results-dir "$OUT" | tail -n 3
done

# 4. Placement, trials/minute and examples/second, from the stored studies.
"$PYTHON" - "$OUT" <<'PY'
import json, statistics, sys
import optuna
out = sys.argv[1]
summary = {}
for mode in ("per_gpu", "all"):
    storage = f"sqlite:///{out}/gpu_{mode}/study.db"
    trials = [t for t in optuna.load_study(study_name=f"gpu_{mode}", storage=storage).trials
              if t.state.name == "COMPLETE"]
    if not trials:
        sys.exit(f"gpu_check: study gpu_{mode} completed no trial; see {out}/gpu_{mode}/trials.csv")
    for t in trials:
        assert all("gpu" in d.lower() for d in t.user_attrs["devices"]), t.user_attrs["devices"]
    span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials))
    row = {
        "trials": len(trials),
        "workers": len({t.user_attrs.get("worker") for t in trials}),
        "devices_per_trial": len(trials[0].user_attrs["devices"]),
        "strategy": sorted({t.user_attrs.get("strategy") for t in trials}),
        "device_names": trials[0].user_attrs.get("device_names"),
        "trials_per_minute": 60 * len(trials) / span.total_seconds(),
        "median_examples_per_second": statistics.median(
            t.user_attrs["examples_per_second"] for t in trials),
    }
    summary[mode] = row
    print(f"{mode:8} {row['trials']:3d} trials on {row['workers']} worker(s) x "
          f"{row['devices_per_trial']} device(s) [{', '.join(row['strategy'])}]: "
          f"{row['trials_per_minute']:.1f} trials/min, "
          f"{row['median_examples_per_second']:,.0f} examples/s (median)")
with open(f"{out}/summary.json", "w") as f:
    json.dump(summary, f, indent=2)
print(f"placement OK; wrote {out}/summary.json")
PY

# 5. One trial across 2 processes (MultiWorkerMirroredStrategy), one GPU each.
GPUS=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
if [ "$GPUS" -lt 2 ]; then
  echo "== group check skipped: it needs 2 GPUs, this machine has $GPUS"
  exit 0
fi
write_run "$WORK/group.yaml" gpu_group 1 2
echo "== study gpu_group: processes_per_trial: 2, devices_per_trial: 1"
"$PYTHON" -m autotune run "$WORK/group.yaml" --results-dir "$OUT" --workers 1 | tail -n 3
"$PYTHON" - "$OUT" <<'PY'
import json, statistics, sys
import optuna
out = sys.argv[1]
storage = f"sqlite:///{out}/gpu_group/study.db"
trials = [t for t in optuna.load_study(study_name="gpu_group", storage=storage).trials
          if t.state.name == "COMPLETE"]
if not trials:
    sys.exit(f"gpu_check: study gpu_group completed no trial; see {out}/gpu_group/trials.csv")
for t in trials:
    a = t.user_attrs
    assert a["strategy"] == "multi_worker_mirrored" and a["replicas"] == 2, a
    assert a["group"]["size"] == 2 and all(d.startswith("gpu:") for d in a["group"]["devices"]), a
    assert len(set(a["group"]["devices"])) == 2, a["group"]  # each process its own GPU
row = {"trials": len(trials), "group": trials[0].user_attrs["group"],
       "median_examples_per_second": statistics.median(
           t.user_attrs["examples_per_second"] for t in trials)}
print(f"group    {row['trials']:3d} trials on 2 processes x 1 GPU "
      f"{row['group']['devices']}: {row['median_examples_per_second']:,.0f} examples/s (median)")
with open(f"{out}/summary_group.json", "w") as f:
    json.dump(row, f, indent=2)
print(f"group OK; wrote {out}/summary_group.json")
PY
