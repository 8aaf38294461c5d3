"""Run every bench/bench_*.py in turn (`make bench`) and print their JSON lines, one per case.

Each benchmark runs in its own process under /tmp/losstopo-cpu.lock (flock), so benchmarks never overlap
with each other or with other heavy jobs on this shared machine. Extra arguments (e.g. --quick) are
passed to every benchmark. Exit status: 1 if any benchmark failed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = "/tmp/losstopo-cpu.lock"


def main(argv: list[str]) -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        cmd = [sys.executable, str(script), *argv]
        if shutil.which("flock"):
            cmd = ["flock", LOCK, *cmd]
        print(f"# {script.name}", file=sys.stderr, flush=True)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                print(line, flush=True)
        if r.returncode != 0:
            failed.append(script.name)
            print(f"# {script.name} failed with exit code {r.returncode}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
