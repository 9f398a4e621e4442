"""The run layer under both runners (``Experiment``, ``SequentialLearning``): what running an experiment needs
whatever is measured.

- ``records``: flat configuration dataclasses (``ConfigRecord``), validation helpers, the resume check;
- ``paths``: every output path, from a run's ``results_csv``;
- ``files``: atomic writes;
- ``results``: the tidy CSV writer and reader;
- ``evaluation``: loss and accuracy by compiled forward passes (``Evaluator``);
- ``progress``: a tqdm bar over training batches;
- ``training``: one epoch in a seeded order;
- ``state`` and ``checkpoints``: model, optimizer and measure state, in memory and on disk.

Imports ``Schema`` and nothing else of the project.
"""
