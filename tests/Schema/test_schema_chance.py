"""Schema.at_chance: the one rule by which the runners and the analysis call a trained model untrained."""

import math

from Schema import CHANCE_TOLERANCE, at_chance


def test_a_model_at_the_chance_loss_is_at_chance():
    # The untrained MobileNetV2 case: trained loss 2.3029 against chance 2.3026 (ln 10).
    assert at_chance(2.3029, 2.3026)
    assert at_chance(2.3026 * (1 - CHANCE_TOLERANCE) + 1e-9, 2.3026)


def test_a_model_clearly_below_chance_is_not():
    assert not at_chance(0.35, 2.3026)
    assert not at_chance(2.3026 * (1 - CHANCE_TOLERANCE) - 1e-6, 2.3026)


def test_accuracy_at_one_over_classes_is_at_chance_even_with_a_lower_loss():
    assert at_chance(1.5, 2.3026, val_accuracy=0.097, num_classes=10)
    assert not at_chance(1.5, 2.3026, val_accuracy=0.2, num_classes=10)


def test_nan_decides_nothing():
    assert not at_chance(math.nan, 2.3)
    assert not at_chance(0.5, math.nan, val_accuracy=math.nan, num_classes=10)
