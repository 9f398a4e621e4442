"""The run layer under both runners (``Experiment``, ``SequentialLearning``): what running an experiment needs
whatever is measured.

- ``records``: flat configuration dataclasses (``ConfigRecord``: JSON, identity), the field groups every study
  has (``RunFields``, ``ExecutionFields``), validation helpers;
- ``paths``: every output path, from a run's ``results_csv``;
- ``files``: atomic writes, the check that a path can be written;
- ``locks``: the lock a run holds on its results file;
- ``results``: the tidy CSV writer and reader, and the repair of a partial last line;
- ``run_files``: what a run holds while it writes (``RunFiles``: lock, repair, recorded configuration), opened
  the same way by both runners;
- ``threads``: TensorFlow's intra-op thread count, which results depend on;
- ``trials`` and ``ray_trials``: a study's trials run one after another or as Ray tasks, failures reported per
  trial;
- ``evaluation``: loss and accuracy by compiled forward passes (``Evaluator``);
- ``progress``: a tqdm bar over training batches;
- ``training``: one epoch in a seeded order;
- ``state`` and ``checkpoints``: model, optimizer and measure state, in memory and on disk.

Imports ``Schema`` and nothing else of the project.
"""
