"""Every benchmark section in one process, on one trained model; prints (and with ``--out`` writes) one JSON
object with the machine, the setup, every section's times, ratios and whether its target is met.

    python benchmarks/run_all.py [--quick] [--out FILE.json] [--only SECTION ...] [--tracker-epoch-fraction F]

Sections (see each script's docstring): thresholded_evaluation (target 1), original_approach (2),
training_trackers (3), per_example_gradients (4), grid_scaling (5). ``training_trackers`` runs last because it
trains the shared model further. The exit status is 0 whether or not the targets are met (``all_met`` says);
it is non-zero only when a section fails to run.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (
    common,
    grid_scaling,
    original_approach,
    per_example_gradients,
    thresholded_evaluation,
    training_trackers,
)

SECTIONS = {
    "thresholded_evaluation": thresholded_evaluation.run,
    "original_approach": original_approach.run,
    "grid_scaling": grid_scaling.run,
    "per_example_gradients": per_example_gradients.run,
    "training_trackers": training_trackers.run,
}


def main(argv=None) -> dict:
    arguments = common.parse_arguments(__doc__.split("\n\n")[0], argv, sections=list(SECTIONS))
    sections = {name: run for name, run in SECTIONS.items() if not arguments.only or name in arguments.only}
    result = common.run_sections(sections, arguments)
    common.emit(result, arguments.out)
    return result


if __name__ == "__main__":
    main()
