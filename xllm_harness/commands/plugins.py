"""``xllm plugins``: every plugin, where it came from, and what it contributes."""

from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    p = sub.add_parser("plugins", help="list registered plugins and what they contribute")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.registry import get_registry

    registry = get_registry()
    contributions = registry.contributions()
    rows = []
    for info in registry.plugins:
        rows.append(
            {
                "name": info.name,
                "module": info.module,
                "distribution": info.distribution,
                "status": "error" if info.error else "ok",
                "error": info.error,
                "contributes": contributions.get(info.name, {}),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        print(f"{row['name']}  ({row['distribution']}: {row['module']})  [{row['status']}]")
        if row["error"]:
            print(f"    error: {row['error']}")
        for hook, items in row["contributes"].items():
            if items:
                print(f"    {hook.removeprefix('xllm_')}: {', '.join(items)}")
    return 1 if any(r["error"] for r in rows) else 0
