"""First-layer maps of image tasks: where in the input, and in which filters, a measure puts its importance.

For a model whose input is an image ``(H, W, C)`` and whose first trainable layer is

- a ``Dense`` layer on the flattened image (its kernel has ``H * W * C`` rows, as after ``Flatten``): the
  per-pixel map ``M[r, c] = Σ_channels Σ_units s[(r, c, channel), unit]`` (the kernel's rows in the C order of
  ``Flatten``, reshaped to the image), averaged over the trials whose first layer has that shape: pixels are the
  same in every trial;
- a ``Conv2D`` layer on the image (kernel ``(kh, kw, C, F)``): per filter, its kernel (saved in the file as
  ``__first_kernel__``) and its importances ``s[:, :, :, j]`` beside it, with the filter's summed importance;
  for one trial, since filter j of one trial has nothing to do with filter j of another.

``first_layer_maps`` says why there is no map otherwise (files written before format 2, an input that is not an
image, a first layer of another kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from Analysis.atlas_loading import ImportanceRun


@dataclass
class FirstLayerMaps:
    """The first-layer maps of one run at one epoch.

    Attributes:
        kind: ``"pixels"`` (a Dense first layer) or ``"filters"`` (a convolution).
        layer, layer_class: the first layer's name and class.
        input_shape: the model's input ``(H, W, C)``.
        importances: by measure, ``(H, W)`` pixel maps (mean over ``trials``) or ``(kh, kw, C, F)`` importances of
            the convolution kernel (of ``trials[0]``).
        kernel: the convolution kernel ``(kh, kw, C, F)`` of ``trials[0]``; None for pixel maps.
        trials: the trials used.
    """

    kind: str
    layer: str
    layer_class: str
    input_shape: tuple
    importances: dict[str, np.ndarray] = field(repr=False)
    kernel: np.ndarray | None = field(default=None, repr=False)
    trials: list[int] = field(default_factory=list)

    def filter_importances(self, measure: str) -> np.ndarray:
        """``(F,)`` summed importance of every filter (filters maps only)."""
        return self.importances[measure].sum(axis=(0, 1, 2))

    def table(self) -> pd.DataFrame:
        """One row per pixel (``index = r * W + c``) or per filter and measure, with its importance."""
        rows = []
        for measure, values in sorted(self.importances.items()):
            if self.kind == "pixels":
                for (r, c), value in np.ndenumerate(values):
                    rows.append({"measure": measure, "map": "pixels", "index": r * values.shape[1] + c, "row": r,
                                 "column": c, "importance": float(value), "num_trials": len(self.trials)})
            else:
                for j, value in enumerate(self.filter_importances(measure)):
                    rows.append({"measure": measure, "map": "filters", "index": j, "row": np.nan, "column": np.nan,
                                 "importance": float(value), "num_trials": 1})
        return pd.DataFrame(rows)


def first_layer_maps(run: ImportanceRun, epoch: int) -> tuple[FirstLayerMaps | None, str | None]:
    """The maps of ``run`` at ``epoch`` (module docstring), or None and the reason there are none."""
    trials = [t for t in run.trials() if run.at(t, epoch)]
    if not trials:
        return None, f"no importances were saved at epoch {epoch}"
    first = run.at(trials[0], epoch)
    some = next(iter(first.values()))
    if not some.described:
        return None, ("the files were written before format 2 and record neither the input shape nor the layers; "
                      "save them again with save_importances=True")
    shape = some.input_shape
    if shape is None or len(shape) != 3 or any(s is None for s in shape):
        return None, f"the model's input (shape {shape}) is not an image of shape (height, width, channels)"
    position = next((i for i, t in enumerate(some.tensors) if t.layer_index == 0 and t.kind == "kernel"), None)
    if position is None:
        return None, f"the first trainable layer ({some.tensors[0].layer}) has no kernel"
    tensor = some.tensors[position]
    height, width, channels = shape
    if tensor.keras_class == "Dense" and len(tensor.shape) == 2 and tensor.shape[0] == height * width * channels:
        same = [t for t in trials if _kernel_shape(run, t, epoch, position) == tensor.shape]
        maps = {}
        for measure in sorted(first):
            stack = [run.at(t, epoch)[measure].arrays[position] for t in same if measure in run.at(t, epoch)]
            pixels = [a.sum(axis=1).reshape(height, width, channels).sum(axis=2) for a in stack]
            maps[measure] = np.mean(pixels, axis=0)
        return FirstLayerMaps("pixels", tensor.layer, tensor.layer_class, shape, maps, None, same), None
    if tensor.keras_class == "Conv2D" and len(tensor.shape) == 4 and tensor.shape[2] == channels:
        if some.first_kernel is None or some.first_kernel.shape != tensor.shape:
            return None, "the files do not hold the first layer's kernel values"
        maps = {measure: s.arrays[position] for measure, s in sorted(first.items())}
        return FirstLayerMaps("filters", tensor.layer, tensor.layer_class, shape, maps,
                              np.asarray(some.first_kernel, dtype=np.float64), [trials[0]]), None
    return None, (f"the first layer is a {tensor.layer_class} with a kernel of shape {tensor.shape}; maps are drawn "
                  f"for a Dense layer on the flattened {height}x{width}x{channels} image or a Conv2D on it")


def _kernel_shape(run: ImportanceRun, trial: int, epoch: int, position: int):
    sets = run.at(trial, epoch)
    some = next(iter(sets.values()))
    return some.tensors[position].shape if position < len(some.tensors) else None
