"""``xllm data list|fetch|path|build``: datasets from their official sources; ``build`` makes instruction data."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("data", help="list, fetch and locate datasets")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True
    ls = dsub.add_parser("list", help="registered data sources and whether they are installed")
    ls.set_defaults(func=run_list)
    fetch = dsub.add_parser("fetch", help="download, verify (sha256) and install a data source")
    fetch.add_argument("names", nargs="+", metavar="NAME")
    fetch.add_argument("--force", action="store_true", help="re-install even if present")
    fetch.set_defaults(func=run_fetch)
    path = dsub.add_parser("path", help="print the data directory (XLLM_DATA_DIR)")
    path.set_defaults(func=lambda args: print(_data().data_dir()) or 0)
    from xllm_harness.commands.train import add_build_parser  # `xllm data build` shares `xllm train` data options

    add_build_parser(dsub)


def _data():
    from xllm_harness import data

    return data


def run_list(args: argparse.Namespace) -> int:
    data = _data()
    root = data.data_dir()
    print(f"data directory: {root}")
    for name, src in sorted(data.get_sources().items()):
        state = "installed" if (root / name).is_dir() else "missing"
        print(f"{name:12s} {state:10s} {src.description} [{src.license}]")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    data = _data()
    for name in args.names:
        target = data.fetch(name, force=args.force)
        print(f"{name}: {target}")
    return 0
