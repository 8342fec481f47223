"""``xllm plugins``: every plugin, where it came from, and what it contributes."""

from __future__ import annotations

import argparse
import json

DESCRIPTION = """\
List every plugin of the xllm_harness entry-point group (the built-ins register the same way as
third-party packages): its distribution and module, whether it loaded, and the languages, task
folders, metrics, judges, analyzers and data sources it contributes. Exit code 1 if one failed to load."""
EPILOG = """\
examples:
  xllm plugins
  xllm plugins --json | python -m json.tool
  XLLM_DISABLE_PLUGINS=bleurt_metric xllm plugins      # switch a plugin off"""


def register(sub) -> None:
    p = sub.add_parser(
        "plugins",
        help="list registered plugins and what they contribute",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xllm_harness.registry import get_registry

    registry = get_registry()
    contributions = registry.contributions()
    rows = [
        {
            "name": info.name,
            "module": info.module,
            "distribution": info.distribution,
            "status": "error" if info.error else "ok",
            "error": info.error,
            "traceback": info.traceback,
            "contributes": contributions.get(info.name, {}),
        }
        for info in registry.plugins
    ]
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
