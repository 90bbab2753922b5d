"""Wall time of ``deepaas-cli`` calls, next to the baselines measured in the same run.

    python3 benchmarks/bench_cli.py                  # 7 rounds, this Python's environment
    python3 benchmarks/bench_cli.py --rounds 15 --python /work/venv/bin/python

The floor is the plugin's own work without deepaas-lite: ``python -c`` loading the
saved SVC with joblib (scikit-learn, SciPy) and classifying the flower.

Each round runs every command once, in turn (so that a busy machine slows them all
alike); the report gives the median and the fastest of each. The iris example is
trained first into a temporary ``DEEPAAS_IRIS_MODEL_DIR``. Then one
``python -X importtime`` run of ``deepaas-cli predict`` says where its imports go,
summed by top-level package (each module's own time, not its imports').
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

FLOWER = ["--data", "5.1", "--data", "3.5", "--data", "1.4", "--data", "0.2"]


def _cli(python: Path) -> list[str]:
    return [str(python), "-m", "deepaas_lite.cmd.cli", "--model-name", "iris-deepaas"]


# The plugin's own work, without deepaas-lite: load the saved SVC (which imports
# scikit-learn, SciPy and joblib) and classify the flower. deepaas-cli predict's floor.
_FLOOR = (
    "import os, joblib; "
    "model = joblib.load(os.path.join(os.environ['DEEPAAS_IRIS_MODEL_DIR'], 'iris-svc.joblib')); "
    "print(model.predict([[5.1, 3.5, 1.4, 0.2]]))"
)


def _commands(python: Path) -> dict[str, list[str]]:
    cli = _cli(python)
    return {
        "python -c pass": [str(python), "-c", "pass"],
        "python -c 'import deepaas_lite'": [str(python), "-c", "import deepaas_lite"],
        "python -c 'import sklearn.svm' (the plugin's own)": [
            str(python),
            "-c",
            "import sklearn.svm",
        ],
        "python -c 'joblib.load(svc); predict' (the floor)": [str(python), "-c", _FLOOR],
        "deepaas-cli get_metadata": [*cli, "get_metadata"],
        "deepaas-cli predict": [*cli, "predict", *FLOWER],
        "deepaas-cli predict --help": [*cli, "predict", "--help"],
    }


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def _imports(command: list[str], env: dict[str, str]) -> list[tuple[str, float]]:
    """Import time (s) spent in each top-level package's own modules, largest first."""
    proc = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    totals: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line[len("import time:") :].split("|")
        totals[name.strip().split(".")[0]] += int(own) / 1e6
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    options = parser.parse_args()
    commands = _commands(options.python)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as model_dir:
        env = {**os.environ, "DEEPAAS_IRIS_MODEL_DIR": model_dir}
        train_s = _wall([*_cli(options.python), "train"], env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.rounds):
            for name, command in commands.items():
                times[name].append(_wall(command, env))
        imports = _imports(commands["deepaas-cli predict"], env)
    print(f"deepaas-cli wall time, {options.rounds} rounds ({options.python})")
    print(f"  {'command':52} {'median':>8} {'fastest':>8}")
    for name, values in times.items():
        print(f"  {name:52} {statistics.median(values):7.3f}s {min(values):7.3f}s")
    print(f"  (deepaas-cli train, once: {train_s:.3f}s)")
    print("\nimports of one `deepaas-cli predict`, by top-level package (own time):")
    for name, seconds in imports[:12]:
        print(f"  {name:40} {seconds:7.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
