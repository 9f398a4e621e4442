"""Run a bridge study from the command line: every ``BridgeConfig`` field is an option, and ``--config`` reads
them from a JSON or YAML file (options given on the line override it).

    python -m Bridge --task digits --sequence permuted --model mlp --num-trials 5 \\
        --measures "[fisher, fisher@sampled, mas]" --measure-options "{fisher@sampled: {labels: sampled}}"
    python -m Bridge --config data/bridge_permuted_digits/thresholding.json --num-trials 6

Values are read as YAML (``3`` is a number, ``null`` is None, ``[a, b]`` a list, ``{a: 1}`` a dict), so lists and
dicts are written as in ``papermill -y``; a number with an exponent needs a point (``--lambda-bounds
"[1.0e-4, 1.0e4]"``: YAML reads ``1e-4`` as text). A configuration JSON saved beside a part's CSV may be given as
``--config``: its ``results_csv`` is left out.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import yaml

from Bridge.config import BridgeConfig
from Bridge.runner import run_bridge

FIELDS = [f.name for f in dataclasses.fields(BridgeConfig)]


def _value(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YAML value: {error}") from error


def parse_arguments(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m Bridge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=None, help="a JSON or YAML file of BridgeConfig fields")
    for name in FIELDS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=_value, default=argparse.SUPPRESS,
                            help=f"BridgeConfig.{name}")
    arguments = vars(parser.parse_args(argv))
    path = arguments.pop("config")
    values = {}
    if path is not None:
        values = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(values, dict):
            parser.error(f"{path} holds a {type(values).__name__}, not a mapping of BridgeConfig fields.")
        values.pop("results_csv", None)  # a part's JSON records its own CSV
    values.update(arguments)
    return values


def main(argv=None) -> int:
    values = parse_arguments(argv)
    try:
        config = BridgeConfig.from_dict(values)
    except ValueError as error:
        print(f"python -m Bridge: error: {error}", file=sys.stderr)
        return 2
    results = run_bridge(config)
    print(f"Results in {results}. Analyse them with:  python \"Data Analysis.py\" --bridge {results} --out "
          f"{results}/figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
