"""What the measures are built from; private to ``WeightImportance`` (nothing outside the package imports it).

- ``data.py``: ``iterate_batches``, the ``(x, y)`` batches of the data forms ``compute`` accepts.
- ``likelihood.py``: the model's compiled loss, the predictive distribution p(y | x, w) read from it, and the
  check of each batch's targets against the model's outputs.
- ``fisher_terms.py``: the Fisher of one example under a distribution of its label (label rows, soft binary
  targets, the model's own distribution), as weighted squared gradients of per-example components.
- ``trackers.py``: ``WeightTracker``, the Keras callback that updates per-weight statistics after every training
  batch in one compiled function, and ``TrackedMeasure``, the mixin of the measures built on one.
- ``gradient_trackers.py``: trackers that also see every step's gradient (``GradientTracker``) or keep the weights
  when tracking started (``InitialWeightsTracker``).
"""
