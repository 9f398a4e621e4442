"""Trained models at chance: a model that, with nothing removed, performs no better than chance never learnt, so
every curve measured on it (every measure, every order) is flat at the chance level and ranks noise.

Per (file, trial, epoch), from the rows at threshold 0 (nothing removed; every curve of that model has one, all
with the same loss): L0 = their validation loss, Lc = their ``chance_val_loss`` (the loss with every thresholded
parameter replaced), a = their validation accuracy (medians, which are these values). The model is at chance by
``Schema.at_chance``:

- the **loss rule**, always: L0 >= Lc − ``CHANCE_TOLERANCE`` |Lc| (the trained loss is not clearly below chance);
- the **accuracy rule**, only where the number of classes C is known reliably, i.e. recorded as ``num_classes``
  in the configuration JSON beside the CSV: a <= (1 + ``CHANCE_TOLERANCE``) / C. The CSV does not hold C, and the
  data cannot tell it: the chance loss depends on the replacement (it is log C only for a uniform prediction), and
  a model's accuracies are not multiples of 1 / C.

The report and ``Data Analysis.py`` name each such trial and epoch and what to check (``WHAT_TO_CHECK``).
"""

from __future__ import annotations

import pandas as pd

from Analysis.loading import load_config
from Schema import CHANCE_TOLERANCE, at_chance

WHAT_TO_CHECK = ("check the learning rate, the number of epochs, and BatchNormalization's momentum (with Keras' "
                 "0.99, or 0.999 in some applications models, the moving statistics barely move in a few hundred "
                 "steps)")
COLUMNS = ("source", "trial", "source_trial", "task", "epoch", "val_loss", "chance_val_loss", "val_accuracy",
           "num_classes", "rule")


def models_at_chance(results: pd.DataFrame, tolerance: float = CHANCE_TOLERANCE) -> pd.DataFrame:
    """One row per (file, trial, epoch) whose trained model is at chance (module docstring): ``COLUMNS``, with
    ``rule`` the rule(s) that found it (``loss``, ``accuracy`` or both) and ``num_classes`` NaN where unknown."""
    trained = results[results["threshold"] == 0]
    if trained.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    keys = [key for key in ("source", "trial", "task", "epoch") if key in trained.columns]
    classes = {source: _num_classes(source) for source in pd.unique(trained["source"])} \
        if "source" in trained.columns else {}
    found = []
    for values, rows in trained.groupby(keys, sort=True):
        row = dict(zip(keys, values))
        loss, chance = float(rows["val_loss"].median()), float(rows["chance_val_loss"].median())
        accuracy = float(rows["val_accuracy"].median())
        num_classes = classes.get(row.get("source"))
        rules = [name for name, hit in (("loss", at_chance(loss, chance, tolerance=tolerance)),
                                        ("accuracy", num_classes is not None and at_chance(
                                            float("nan"), float("nan"), accuracy, num_classes, tolerance)))
                 if hit]
        if rules:
            source_trial = rows["source_trial"].iloc[0] if "source_trial" in rows.columns else row["trial"]
            found.append({**row, "source_trial": source_trial, "val_loss": loss, "chance_val_loss": chance,
                          "val_accuracy": accuracy, "num_classes": num_classes, "rule": " and ".join(rules)})
    return pd.DataFrame(found, columns=list(COLUMNS))


def chance_statements(table: pd.DataFrame, tolerance: float = CHANCE_TOLERANCE) -> list[str]:
    """One sentence per row of ``models_at_chance``: which model, its numbers, and what to check."""
    statements = []
    for _, row in table.iterrows():
        where = f"trial {row['trial']}, epoch {row['epoch']}"
        if isinstance(row.get("source"), str):
            original = f", trial {row['source_trial']} there" if row["source_trial"] != row["trial"] else ""
            where += f" ({row['source']}{original})"
        numbers = (f"validation loss {row['val_loss']:.4f} against the chance loss {row['chance_val_loss']:.4f}"
                   + (f", accuracy {row['val_accuracy']:.3f}" if pd.notna(row["val_accuracy"]) else ""))
        if pd.notna(row["num_classes"]):
            numbers += f" with {int(row['num_classes'])} classes (1 / classes = {1 / row['num_classes']:.3f})"
        statements.append(
            f"The trained model of {where} is at chance by the {row['rule']} rule (within {100 * tolerance:g}%): "
            f"{numbers}. Its curves measure noise; {WHAT_TO_CHECK}."
        )
    return statements


def _num_classes(source) -> int | None:
    """``num_classes`` recorded in the configuration beside ``source``, when it is a positive whole number."""
    try:
        config = load_config(source) or {}
    except ValueError:
        return None
    value = config.get("num_classes")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
