"""The bridge study: does a measure's thresholding ranking predict how well it protects an old task under EWC?

The same importances of the same trained model are judged both ways, per trial:

1. one model learns task A of a sequence (``SequentialLearning``'s sequences and models), every training-time
   measure's callbacks attached (``first_task``);
2. every measure's importances of it are computed once, on task A's training data with task A's output mask;
3. task A's model is thresholded with them on task A's validation data by the thresholding runner's grid
   (``Experiment.EpochGrid`` with ``importances=``) -> ``thresholding.csv`` (``thresholding``);
4. from that same trained model, each measure (and the baselines ``none``, ``uniform``) learns task B, C, ... with
   EWC whose Ω for task A are those importances, normalised as ``SequentialLearning`` does, over the λ grid ->
   ``sequential.csv`` (the reported validation split) and ``selection.csv`` (held-out training examples, on
   which the analysis chooses λ) (``consolidation``); where a measure's choice is at the edge of its λ, it is run
   beyond it (``extension``).

``Analysis.bridge_study`` then correlates the two rankings across measures. This is the one package that imports
both runners; neither imports it.

    from Bridge import BridgeConfig, run_bridge
    run_bridge(BridgeConfig(task="digits", sequence="permuted", model="mlp", measures=["fisher", "mas"]))

or ``python -m Bridge --measures "[fisher, mas]" --num-trials 5``, or ``bridge.ipynb`` through papermill.
"""

from Bridge.config import EWC_BASELINES, VARIANT_SEPARATOR, BridgeConfig, PartConfig, base_measure
from Bridge.first_task import FirstTask, StudySequence, build_sequence, learn_first_task
from Bridge.paths import PARTS, part_csv
from Bridge.runner import run_bridge
from Bridge.trial import run_trial, trial_complete

__all__ = ["EWC_BASELINES", "PARTS", "VARIANT_SEPARATOR", "BridgeConfig", "FirstTask", "PartConfig",
           "StudySequence", "base_measure", "build_sequence", "learn_first_task", "part_csv",
           "run_bridge", "run_trial", "trial_complete"]
