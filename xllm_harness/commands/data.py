"""``xllm data list|fetch|path|build``: datasets from their official sources; ``build`` makes instruction data."""

from __future__ import annotations

import argparse
from pathlib import Path

from xllm_harness.commands import add_data_options
from xllm_harness.errors import InputError
from xllm_harness.train_sources import LANGUAGE_NAMES

DESCRIPTION = """\
Datasets from their official sources. `fetch` downloads a registered data source, verifies every
file's sha256 and installs it into the data directory (XLLM_DATA_DIR, default
~/.cache/xllm_harness/data) all or nothing; a cut download resumes. `build` writes CoIT/MuIT
instruction data (the same data options as `xllm train`)."""
EPILOG = """\
examples:
  xllm data list
  xllm data fetch xquad mlqa flores101
  XLLM_DATA_DIR=$(xllm data path --samples) xllm eval --model_args pretrained=MODEL --tasks xquad_xllm_ar"""


def register(sub) -> None:
    from xllm_harness.data.download import RETRIES

    p = sub.add_parser("data", help="list, fetch and locate datasets", description=DESCRIPTION, epilog=EPILOG)
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", title="actions")
    dsub.required = True
    ls = dsub.add_parser(
        "list",
        help="registered data sources and whether they are installed",
        description="List every registered data source, whether it is installed, its licence and checksum notes.",
        epilog="example:\n  xllm data list",
    )
    ls.set_defaults(func=run_list)
    fetch = dsub.add_parser(
        "fetch",
        help="download, verify (sha256) and install a data source",
        description="Download data sources from their official URLs (or XLLM_DATA_MIRROR), verify each "
        "file's sha256 and install them into the data directory; an interrupted fetch resumes.",
        epilog="examples:\n  xllm data fetch xquad mlqa flores101\n"
        "  xllm data fetch flores101 --sha256 flores101_dataset.tar.gz=HEX",
    )
    fetch.add_argument("names", nargs="+", metavar="NAME", help="data sources (`xllm data list`)")
    fetch.add_argument("--force", action="store_true", help="re-install even if present")
    fetch.add_argument(
        "--sha256",
        action="append",
        default=[],
        metavar="[FILE=]HEX",
        help="verify FILE against this sha256 instead of the pinned one (for sources whose published "
        "checksum is missing or unconfirmed; FILE may be left out for a one-file source); repeatable",
    )
    fetch.add_argument(
        "--retries", type=int, default=RETRIES, help="automatic resumes of a cut download within one fetch"
    )
    fetch.set_defaults(func=run_fetch)
    path = dsub.add_parser(
        "path",
        help="print the data directory (XLLM_DATA_DIR)",
        description="Print the data directory, or with --samples the small bundled samples folder.",
        epilog="example:\n  XLLM_DATA_DIR=$(xllm data path --samples) xllm tasks",
    )
    path.add_argument(
        "--samples",
        action="store_true",
        help="print the bundled samples folder instead (XLLM_DATA_DIR=$(...) to try)",
    )
    path.set_defaults(func=run_path)
    add_build_parser(dsub)


BUILD_DESCRIPTION = """\
Build CoIT/MuIT instruction data from a spec: Alpaca-style instructions and translation pairs turned
into instructions, mixed and shuffled with --seed, written as JSON Lines that `xllm train --data`
takes. Per-source counts (kept, dropped and why) are printed; docs/training.md has the spec syntax."""
BUILD_EPILOG = """\
examples:
  xllm data build alpaca_en+alpaca_zh+translation_en-zh[:100000] -o coit.jsonl
  xllm data build "alpaca_en=/d/alpaca.json+translation_en-zh=/d/x.en,/d/x.zh" -o coit.jsonl --seed 1
  xllm data build --allocation allocation.json -o muit.jsonl"""


def add_build_parser(dsub) -> None:
    """``xllm data build`` (registered by the ``data`` command)."""
    p = dsub.add_parser(
        "build",
        help="build CoIT/MuIT instruction data from a spec (JSON Lines)",
        description=BUILD_DESCRIPTION,
        epilog=BUILD_EPILOG,
    )
    add_data_options(p, spec_required=True)
    p.add_argument("-o", "--output", required=True, help="output .jsonl file")
    p.add_argument(
        "--language-names",
        default="english",
        choices=LANGUAGE_NAMES,
        help="language names in translation instructions",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from xllm_harness.results.files import check_writable, remove_leftovers
    from xllm_harness.trainers import data

    output = Path(args.output)
    if output.is_dir():
        raise InputError(f"-o {output} is a folder; name the .jsonl file to write")
    check_writable(output.parent, f"the folder of -o {output}", create=False)  # before reading data
    options = data.DataOptions(
        spec=args.spec,
        allocation=args.allocation,
        seed=args.seed,
        direction=args.direction,
        instructions=args.instructions,
        language_names=args.language_names,
    )
    built = data.build_from(options)
    remove_leftovers(output)  # what a killed earlier build left
    path = data.write_jsonl(built.examples, output)
    print(built.summary())
    print(f"wrote {len(built.examples):,} examples to {path}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    if args.samples:
        from xllm_harness.data.samples import SAMPLES_DIR

        print(SAMPLES_DIR)
    else:
        from xllm_harness.data import data_dir

        print(data_dir())
    return 0


def run_list(args: argparse.Namespace) -> int:
    from xllm_harness.data import data_dir, get_sources

    root = data_dir()
    print(f"data directory: {root}")
    for name, src in sorted(get_sources().items()):
        state = "installed" if (root / name).is_dir() else "missing"
        print(f"{name:12s} {state:10s} {src.description} [{src.license}]")
        if src.checksum_note:
            print(f"{'':23s} checksum: {src.checksum_note}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from xllm_harness.data import get_sources
    from xllm_harness.data.fetch import fetch

    if args.retries < 0:
        raise InputError(f"--retries {args.retries}: use a whole number of at least 0")
    overrides = _sha256_overrides(args, get_sources())
    for name in args.names:
        target = fetch(name, force=args.force, sha256=overrides, retries=args.retries)
        print(f"{name}: {target}")
    return 0


def _sha256_overrides(args: argparse.Namespace, sources: dict) -> dict[str, str]:
    """``--sha256 [FILE=]HEX`` values as {file name: checksum}."""
    if args.sha256 and len(args.names) != 1:
        raise InputError("--sha256 applies to one data source: fetch the others separately")
    overrides: dict[str, str] = {}
    for value in args.sha256:
        filename, sep, digest = value.rpartition("=")
        if not sep:
            files = sources[args.names[0]].files if args.names[0] in sources else ()
            if len(files) != 1:
                raise InputError(f"--sha256 {value}: name the file (FILE=HEX); {args.names[0]} has several")
            filename = files[0].name
        overrides[filename] = digest.strip().lower()
    return overrides
