"""What an overnight run shows in TensorBoard while it runs: one event folder per trial under ``tensorboard_dir``.

    tensorboard --logdir results/tensorboard        # then open http://localhost:6006

Tags, per trial (``tensorboard_dir/trial_3/``):

- ``train/loss``, ``train/accuracy``: the training loss and accuracy Keras reports for each epoch (step: the epoch);
- ``validation/loss``, ``validation/accuracy``: the model evaluated on the run's validation examples after each
  epoch (step: the epoch), by the run's compiled evaluator;
- ``importance/MEASURE/VARIABLE_PATH``: a histogram of each measure's importances of each trainable tensor at each
  measured epoch (step: the epoch);
- ``curves/epoch_E/MEASURE/LEVEL_METHOD/SCOPE/ORDER``: each curve's validation loss as its rows are measured
  (step: the fraction removed in thousandths, so 250 is a quarter of the thresholded parameters removed), and
  ``curves/epoch_E/chance`` the chance level at the same steps.

Writing needs the ``tensorboard`` package (``pip install -r requirements-tensorboard.txt``, or the extra
``[tensorboard]``), which TensorFlow uses to write summaries; without it asking for a log is an error that says
so. The log only shows the run: nothing in it is read back, and it is not part of the results.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import tensorflow as tf

# Steps of a curve's points: the fraction removed in thousandths.
CURVE_STEPS = 1000


def check_tensorboard() -> None:
    """An ``ImportError`` that says what to install when TensorBoard's summary writers are missing."""
    try:
        import tensorboard  # noqa: F401  (TensorFlow's tf.summary.scalar/histogram are implemented there)
    except ImportError as error:
        raise ImportError(
            "tensorboard_dir asks for a TensorBoard log, which needs the tensorboard package: "
            "pip install -r requirements-tensorboard.txt (or pip install .[tensorboard]), or set tensorboard_dir "
            "to None."
        ) from error


def curve_tag(row: dict) -> str:
    """The tag of the curve a thresholding row belongs to."""
    return (f"curves/epoch_{int(row['epoch'])}/{row['measure']}/{row['aggregation_level']}_"
            f"{row['aggregation_method']}/{row['scope']}/{row['order']}")


class TrialLog:
    """The TensorBoard log of one trial, in ``Path(tensorboard_dir) / f"trial_{trial}"``."""

    def __init__(self, tensorboard_dir: str | Path, trial: int):
        check_tensorboard()
        self.folder = Path(tensorboard_dir) / f"trial_{int(trial)}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._writer = tf.summary.create_file_writer(str(self.folder))

    def epoch(self, epoch: int, train: dict[str, float], validation: tuple[float, float]) -> None:
        """One finished epoch: Keras' training ``loss``/``accuracy`` (the last value of each in ``train``) and
        the validation ``(loss, accuracy)``; NaN values (an accuracy of a regression) are left out."""
        values = {f"train/{name}": train.get(name) for name in ("loss", "accuracy")}
        values.update({"validation/loss": validation[0], "validation/accuracy": validation[1]})
        with self._writer.as_default():
            for tag, value in values.items():
                if value is not None and math.isfinite(float(value)):
                    tf.summary.scalar(tag, float(value), step=int(epoch))
        self._writer.flush()

    def importances(self, epoch: int, measure: str, paths: Iterable[str], arrays: Iterable[np.ndarray]) -> None:
        """A histogram of ``measure``'s importances of each trainable tensor (by variable path)."""
        with self._writer.as_default():
            for path, values in zip(paths, arrays):
                values = np.asarray(values, np.float64).ravel()
                tf.summary.histogram(f"importance/{measure}/{path}", values[np.isfinite(values)], step=int(epoch))
        self._writer.flush()

    def rows(self, rows: Iterable[dict]) -> None:
        """Each thresholding row's validation loss on its curve, and the chance level beside it."""
        with self._writer.as_default():
            for row in rows:
                step = int(round(float(row["fraction_removed"]) * CURVE_STEPS))
                if math.isfinite(float(row["val_loss"])):
                    tf.summary.scalar(curve_tag(row), float(row["val_loss"]), step=step)
                if math.isfinite(float(row["chance_val_loss"])):
                    tf.summary.scalar(f"curves/epoch_{int(row['epoch'])}/chance", float(row["chance_val_loss"]),
                                      step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def logging_sink(sink: Callable[[list[dict]], None], log: TrialLog | None) -> Callable[[list[dict]], None]:
    """``sink``, and with a ``log`` each batch of rows written to it as well (after ``sink`` took them)."""
    if log is None:
        return sink

    def both(rows: list[dict]) -> None:
        sink(rows)
        log.rows(rows)

    return both


def read_events(folder) -> dict[str, list[tuple[int, float]]]:
    """What a trial's log holds, read back: tag -> [(step, value)] of every event file in ``folder`` (e.g.
    ``results/tensorboard/trial_0``), a float for a scalar and the number of values for a histogram."""
    found: dict[str, list] = {}
    for file in sorted(Path(folder).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(file)):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name == "histograms":
                    found.setdefault(value.tag, []).append((event.step, float(tensor[:, 2].sum())))
                else:
                    found.setdefault(value.tag, []).append((event.step, float(tensor)))
    return found
