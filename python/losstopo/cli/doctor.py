"""`losstopo doctor`: what losstopo finds on this machine: ParaView, TTK (how, where, which version and
filter names), torch and the backends `analyze --backend auto` would use."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")


def run(args: argparse.Namespace) -> int:
    from ..jobs.doctor import report

    rep = report()
    if args.json:
        print(json.dumps(rep, indent=1))
        return 0
    for key, value in rep.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {', '.join(v) if isinstance(v, list) else v}")
        else:
            print(f"{key}: {value}")
    return 0
