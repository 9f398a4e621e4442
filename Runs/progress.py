"""A tqdm bar over training batches, as a Keras callback (readable in Jupyter and in a terminal or log)."""

from __future__ import annotations

import keras
from tqdm.auto import tqdm


class BatchProgress(keras.callbacks.Callback):
    """Advances a tqdm bar after every training batch.

    With ``close_at_train_end`` (default) the bar closes when ``fit`` ends; otherwise it may span several ``fit``
    calls and the caller closes it with ``close()``. (``tqdm.keras.TqdmCallback`` draws one bar per ``fit`` call
    and an epoch bar; a runner here calls ``fit`` once per epoch, so its bars would stack.)
    """

    def __init__(self, total: int, description: str, enabled: bool, close_at_train_end: bool = True):
        super().__init__()
        self.close_at_train_end = close_at_train_end
        self.bar = tqdm(total=total, desc=description, leave=False, disable=not enabled, unit="batch")

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_train_end(self, logs=None):
        if self.close_at_train_end:
            self.bar.close()

    def close(self):
        self.bar.close()
