"""A trained model at chance (threshold 0: nothing removed) is named, with trial, epoch and what to check, at the
top of the report and in Data Analysis.py's output; the accuracy rule only where the number of classes is known."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from Analysis.chance import models_at_chance
from Analysis.loading import load_results
from Analysis.report import write_report
from Analysis.thresholding import analyze
from Schema import THRESHOLDING_COLUMNS

SCRIPT = Path(__file__).resolve().parents[2] / "Data Analysis.py"
# Per trial: (L0, Lc, accuracy at threshold 0). Trial 1 is the model that never learnt (2.3029 against 2.3026, as
# a MobileNetV2 after one epoch); trial 2 learnt a little by its loss (1.9 < 0.95 * 2.3026) but not by accuracy.
TRAINED = {0: (0.30, 2.3026, 0.91), 1: (2.3029, 2.3026, 0.097), 2: (1.90, 2.3026, 0.104)}


def _write(path, epochs=(2,)) -> Path:
    rows = []
    for (trial, (loss, chance, accuracy)), epoch, measure in (
            (t, e, m) for t in TRAINED.items() for e in epochs for m in ("random", "magnitude")):
        for threshold in (0.0, 0.5, 1.0):
            rows.append({"trial": trial, "seed": trial, "task": "fashion_mnist", "epoch": epoch, "measure": measure,
                         "aggregation_level": "weight", "aggregation_method": "none", "scope": "layer",
                         "order": "least", "parameters": "all", "replacement": "noise", "threshold": threshold,
                         "fraction_removed": threshold, "loss": float("nan"), "accuracy": float("nan"),
                         "val_loss": loss + (chance - loss) * threshold ** 2, "chance_val_loss": chance,
                         "val_accuracy": accuracy if threshold == 0 else 0.1})
    pd.DataFrame(rows).reindex(columns=list(THRESHOLDING_COLUMNS)).to_csv(path, index=False)
    return path


def test_the_model_at_chance_is_found_by_the_loss_rule_alone_without_the_number_of_classes(tmp_path):
    found = models_at_chance(load_results(_write(tmp_path / "run.csv", epochs=(1, 2))))
    assert found[["trial", "epoch", "rule"]].values.tolist() == [[1, 1, "loss"], [1, 2, "loss"]]
    assert found["val_loss"].tolist() == [2.3029, 2.3029] and found["num_classes"].isna().all()


def test_the_accuracy_rule_applies_where_the_configuration_records_the_number_of_classes(tmp_path):
    path = _write(tmp_path / "run.csv")
    path.with_suffix(".json").write_text(json.dumps({"task": "fashion_mnist", "num_classes": 10}))
    found = models_at_chance(load_results(path))
    # 0.104 <= 1.05 / 10: trial 2 is at chance by its accuracy, though its loss is 17 % below chance.
    assert found[["trial", "rule"]].values.tolist() == [[1, "loss and accuracy"], [2, "accuracy"]]


@pytest.mark.filterwarnings("ignore:The normalized AUC is undefined")  # L0 above Lc: at chance
def test_the_report_and_the_cli_name_the_trial_and_epoch_and_what_to_check(tmp_path):
    path = _write(tmp_path / "run.csv")
    results = load_results(path)
    analysis = analyze(results)
    report = write_report(results, tmp_path / "report", analysis=analysis).read_text(encoding="utf-8")
    top = report[: report.index("## Method")]
    assert "trial 1, epoch 2" in top and "at chance" in top
    assert "validation loss 2.3029 against the chance loss 2.3026" in top
    for advice in ("learning rate", "number of epochs", "BatchNormalization"):
        assert advice in top
    assert "trial 0, epoch 2" not in report and "trial 2, epoch 2" not in report
    completed = subprocess.run([sys.executable, str(SCRIPT), str(path), "--out", str(tmp_path / "figures"),
                                "--dpi", "40"], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.startswith("At chance:")]
    assert len(lines) == 1 and "trial 1, epoch 2" in lines[0] and "learning rate" in lines[0]
