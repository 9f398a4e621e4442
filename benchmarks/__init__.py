"""Performance benchmarks of the toolkit, on the real ``fashion_mnist`` task and its default model.

Each script builds its own comparison, runs both sides in one process, interleaved and repeated, and prints one
JSON object (medians, ratios, whether the target is met, machine information):

- ``thresholded_evaluation.py``: one (measure, combination, threshold) step of the runner against the floor, a
  compiled forward pass plus loss over the same examples with the weights in place (target: at most 1.2x).
- ``original_approach.py``: the runner's thresholding against the original per-threshold clone, ``set_weights``,
  ``compile`` and ``evaluate`` (target: at least 1.6x faster, per step and for the whole grid).
- ``training_trackers.py``: ``fit`` with every training-time tracker against ``fit`` without (target: at most
  1.10x).
- ``per_example_gradients.py``: the vectorized Fisher against an eager per-example loop giving the same result
  (target: at least 10x faster).
- ``grid_scaling.py``: the grid's cost for (1 measure, k thresholds), (2 measures, k) and (1 measure, 2k)
  (target: both ratios about 2, and nothing recomputed per threshold).
- ``run_all.py``: every section in one process, one combined JSON object.

Usage: ``python benchmarks/run_all.py [--quick] [--out FILE.json]`` (or any script alone, same options).
``--quick`` is a smoke run on tiny subsets with one repeat. Without the Fashion-MNIST files the benchmarks fall back
to the ``digits`` task and say so.
"""
