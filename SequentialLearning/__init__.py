"""Sequential learning: elastic weight consolidation with any weight importance measure.

    from SequentialLearning import get_sequence, train_sequence
    sequence = get_sequence("split", task="digits", num_tasks=2, seed=0)      # digits 0-4, then 5-9
    result = train_sequence(sequence, "fisher", ewc_lambda=1.0, epochs=3)     # result.accuracy[i, j]

The runner (``SequentialConfig``, ``run_sequential``) sweeps λ for several measures over trials and writes one
long-format CSV; ``Analysis.sequential`` summarises it. Uses ``Tasks`` and ``WeightImportance`` only through their
public surface.
"""

from SequentialLearning.config import SequentialConfig
from SequentialLearning.ewc import MASKED_LOGIT, VARIANTS, EWCModel, OutputMask, ewc_model
from SequentialLearning.importance import BASELINES, Uniform, available_importances, get_importance
from SequentialLearning.models import MODELS, with_model
from SequentialLearning.normalization import NORMALIZATIONS, normalize_importances
from SequentialLearning.registry import SEQUENCES, available_sequences, get_sequence
from Schema import SEQUENTIAL_COLUMNS as COLUMNS
from SequentialLearning.runner import build_sequence, run_sequential, run_trial
from SequentialLearning.sequence import SequenceTask, TaskSequence
from SequentialLearning.training import SequenceResult, SequentialLearner, train_sequence

__all__ = [
    "BASELINES", "COLUMNS", "MASKED_LOGIT", "MODELS", "NORMALIZATIONS", "SEQUENCES", "VARIANTS", "EWCModel",
    "OutputMask", "SequenceResult", "SequenceTask", "SequentialConfig", "SequentialLearner", "TaskSequence",
    "Uniform", "available_importances", "available_sequences", "build_sequence", "ewc_model", "get_importance",
    "get_sequence", "normalize_importances", "run_sequential", "run_trial", "train_sequence", "with_model",
]
