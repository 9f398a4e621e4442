"""Write the reference runs that pin the runners' results: ``python tests/data/make_references.py``.

Run it only when a change of results is intended (and say so in the commit); ``tests/test_reference_runs.py``
compares fresh runs of the same configurations with these files to 1e-9.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HERE = Path(__file__).parent

THRESHOLDING = dict(
    task="digits", seed=0, epochs=2, measure_every=1,
    measures=["magnitude", "fisher", "sign_flips", "si", "shuffled:fisher"],
    aggregation_levels=["weight", "unit"], aggregation_methods=["mean"], scopes=["layer", "model"],
    orders=["least", "most"], num_thresholds=5, num_validation_examples=200, validation_precision=None,
    num_train_loss_examples=200,
    num_importance_examples=200, progress=False,
)
SEQUENTIAL = dict(
    task="digits", sequence="split", num_tasks=2, model="task", seed=0, num_trials=1, epochs=1,
    measures=["none", "uniform", "fisher", "si"], ewc_lambdas=[0.1, 1.0], num_train_examples=300,
    num_validation_examples=200, num_importance_examples=100, progress=False,
)


def machine() -> dict:
    """What the stored numbers depend on besides the code: the processor (its vector instructions choose the
    kernels), the thread count (the order of floating-point sums) and the numerical libraries' versions."""
    import keras
    import numpy
    import tensorflow as tf

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"processor": model, "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": numpy.__version__}


def main() -> None:
    from Experiment import ExperimentConfig, run_experiment
    from SequentialLearning import SequentialConfig, run_sequential

    with tempfile.TemporaryDirectory() as folder:
        csv = run_experiment(ExperimentConfig(**THRESHOLDING, results_csv=f"{folder}/thresholding.csv"))
        shutil.copy(csv, HERE / "reference_thresholding.csv")
        csv = run_sequential(SequentialConfig(**SEQUENTIAL, results_csv=f"{folder}/sequential.csv"))
        shutil.copy(csv, HERE / "reference_sequential.csv")
    (HERE / "reference_machine.json").write_text(json.dumps(machine(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
