"""Import cost of the package's entry points, against ``import json``'s, in one run.

Each statement runs in a fresh interpreter (``sys.executable``) that times only the statement itself
(``time.perf_counter`` around an ``exec``, interpreter start-up excluded); each figure is the best of
``--repeat`` runs, the statements taking turns so that a busy machine slows them alike. The run also lists
the heavy modules a statement must not load (YAML, jsonschema, the Kubernetes and Argo clients, the
validator), and ``--importtime`` prints the slowest modules of each statement from ``python -X importtime``.
The interpreters inherit the environment: ``PYTHONPATH=<another checkout>`` measures that checkout (whose
bytecode is brought up to date first, see ``up_to_date_bytecode.py``).

    python bench/imports.py [--repeat 15] [--importtime]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from up_to_date_bytecode import fresh_bytecode  # bench/ is on sys.path: this script's own folder

STATEMENTS = (
    "import json",
    "import workflows",
    "from workflows import operations, tasks",
    "from workflows.engine.lang import expr",
)

#: Modules that ``from workflows import operations, tasks`` must leave unloaded (they load when first used).
HEAVY = ("yaml", "jsonschema", "kubernetes", "argo_workflows", "kafka", "workflows.validation.lint",
         "workflows.validation.documents", "workflows.compiler.yaml")

_PROBE = """
import sys, time, json as _json
start = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
elapsed = time.perf_counter() - start
print(_json.dumps({"seconds": elapsed, "heavy": [name for name in sys.argv[2:] if name in sys.modules]}))
"""


def probe(statement: str) -> dict | None:
    """Time ``statement`` in a fresh interpreter; also report which :data:`HEAVY` modules it loaded.

    ``None`` when the statement fails (a module this checkout does not have, e.g. measuring an older commit
    through ``PYTHONPATH``).
    """
    if statement == "import json":  # the probe itself imports json: time a fresh copy under another name
        statement = "import importlib.util as u; s = u.find_spec('json'); m = u.module_from_spec(s); s.loader.exec_module(m)"
    # run from bench/: the current folder comes first on sys.path and must not shadow PYTHONPATH's checkout
    done = subprocess.run([sys.executable, "-c", _PROBE, statement, *HEAVY], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parent)
    return json.loads(done.stdout) if done.returncode == 0 else None


def slowest(statement: str, count: int = 8) -> list[tuple[int, int, str]]:
    """The ``count`` modules with the largest cumulative import time (µs) under ``python -X importtime``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True,
                          check=True, timeout=120, cwd=Path(__file__).parent)
    rows = []
    started = False
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*\S+)", line)
        if match is None:
            continue
        if match[3].strip() == "site":  # what came before belongs to interpreter start-up
            started = True
            continue
        if started:
            rows.append((int(match[1]), int(match[2]), match[3]))
    return sorted(rows, key=lambda row: -row[1])[:count]


def main() -> None:
    """Print a Markdown table of best-of-N import times, and the ratio to ``import json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="also list the slowest modules")
    args = parser.parse_args()
    fresh_bytecode()
    best = {statement: float("inf") for statement in STATEMENTS}
    heavy: dict[str, list] = {}
    for _ in range(args.repeat):
        for statement in STATEMENTS:
            result = probe(statement)
            if result is not None:
                best[statement] = min(best[statement], result["seconds"])
                heavy[statement] = result["heavy"]
    print(f"Python {sys.version.split()[0]}, best of {args.repeat}\n")
    print("| statement | import (ms) | / `import json` | heavy modules loaded |")
    print("|---|---|---|---|")
    for statement in STATEMENTS:
        if statement not in heavy:
            print(f"| `{statement}` | fails here | | |")
            continue
        ratio = best[statement] / best["import json"]
        print(f"| `{statement}` | {best[statement] * 1000:.1f} | {ratio:.1f} | {', '.join(heavy[statement]) or '—'} |")
    if args.importtime:
        for statement in STATEMENTS[1:]:
            print(f"\n{statement}: self µs, cumulative µs, module")
            for own, cumulative, name in slowest(statement):
                print(f"  {own:7d} {cumulative:7d} {name}")


if __name__ == "__main__":
    main()
