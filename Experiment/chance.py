"""The warning a run gives when the model it measures never learnt: every curve of such a model is flat at the
chance level, so it measures noise, not what the importance measures know.

A measured epoch's trained model (threshold 0) is at chance by ``Schema.at_chance``: its validation loss within
``Schema.CHANCE_TOLERANCE`` of ``chance_val_loss`` (the loss with every thresholded parameter replaced), or, for a
classification task, its accuracy at most ``(1 + CHANCE_TOLERANCE) / num_classes``. The grid of that epoch warns
once (``RuntimeWarning``), naming the trial and epoch, both losses and what to check.
"""

from __future__ import annotations

import math
import warnings

from Schema import CHANCE_TOLERANCE, at_chance

ADVICE = (
    "Check the learning rate (the task's, or the optimizer the model was compiled with), the number of epochs and "
    "training examples, and BatchNormalization's momentum: with Keras' default 0.99 (0.999 in keras.applications "
    "models such as MobileNetV2) the moving mean and variance move by 1 % (0.1 %) of the way per step, so after a "
    "few hundred steps inference still normalises with almost their initial values; a momentum of 0.9, or more "
    "steps, lets them follow the data."
)


class AtChanceWarning(RuntimeWarning):
    """A measured epoch's trained model performs at chance."""


def warn_if_at_chance(trial: int, epoch: int, val_loss: float, val_accuracy: float, chance_val_loss: float,
                      num_classes: int | None = None) -> bool:
    """Warn (``AtChanceWarning``) if the trained model of (``trial``, ``epoch``) is at chance (module docstring);
    returns whether it is."""
    if not at_chance(val_loss, chance_val_loss, val_accuracy, num_classes):
        return False
    accuracy = ""
    if num_classes and not math.isnan(val_accuracy):
        accuracy = f", validation accuracy {val_accuracy:.3f} against 1/{num_classes} = {1 / num_classes:.3f}"
    warnings.warn(
        f"Trial {trial}, epoch {epoch}: the trained model is at chance: validation loss {val_loss:.4f} against the "
        f"chance level {chance_val_loss:.4f} (every thresholded parameter replaced; within {CHANCE_TOLERANCE:.0%})"
        f"{accuracy}. Its curves measure noise, not the importance measures. {ADVICE}",
        AtChanceWarning, stacklevel=2)
    return True
