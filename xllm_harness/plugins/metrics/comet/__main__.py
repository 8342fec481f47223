"""Score files with COMET, on one device or on several GPUs by data parallelism.

    python -m xllm_harness.plugins.metrics.comet -s src.txt -t hyp.txt [-r ref.txt] --model MODEL [--out scores.json]
    torchrun --nproc_per_node 8 -m xllm_harness.plugins.metrics.comet -s src.txt -t hyp.txt -r ref.txt ...

One segment per line (outer whitespace stripped, as ``comet-score`` reads files). Under ``torchrun``
every process loads the model on its own GPU (``cuda:LOCAL_RANK``) and scores a share of the
length-sorted batches; all results are gathered in input order and rank 0 prints the system score
and writes ``--out`` (segment scores, and error spans for XCOMET). Without ``-r``, reference-free
models (CometKiwi, XCOMET) score source and translation only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m xllm_harness.plugins.metrics.comet", description=__doc__.splitlines()[0]
    )
    p.add_argument("-s", "--sources", type=Path, required=True)
    p.add_argument("-t", "--translations", type=Path, required=True)
    p.add_argument("-r", "--references", type=Path, default=None)
    p.add_argument(
        "--model", default=None, help="COMET hub id, folder or .ckpt (default: Unbabel/wmt22-comet-da)"
    )
    p.add_argument("--precision", default=None, help="fp32, bf16 or fp16 (default: bf16 on CUDA, else fp32)")
    p.add_argument("--device", default=None, help="default: cuda:LOCAL_RANK when CUDA is present, else cpu")
    p.add_argument("--batch-size", type=int, default=None, help="most sequences per batch (default 256)")
    p.add_argument(
        "--max-tokens", type=int, default=None, help="most padded tokens per batch (default 16384)"
    )
    p.add_argument("--out", type=Path, default=None, help="JSON file for the segment scores (rank 0)")
    args = p.parse_args(argv)

    from xllm_harness.errors import XllmError
    from xllm_harness.results.files import write_text

    from . import Comet, load_model

    try:
        lines = {}
        for key in ("sources", "translations", "references"):
            path = getattr(args, key)
            if path is not None:
                if not path.is_file():
                    raise XllmError(f"--{key}: {path} does not exist")
                lines[key] = path.read_text(encoding="utf-8").splitlines()
        if len({len(v) for v in lines.values()}) != 1:
            raise XllmError(
                f"files differ in line count: {', '.join(f'{k} {len(v)}' for k, v in lines.items())}"
            )
        device = args.device
        if device is None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            import torch

            device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu"
        metric = Comet(args.model, args.batch_size, device, args.precision, args.max_tokens, distributed=True)
        if (
            "references" not in lines
            and not load_model(metric.model, device, metric.precision).reference_free
        ):
            raise XllmError(f"COMET model {metric.model} needs references: pass -r/--references")
        refs = lines.get("references") or [""] * len(lines["sources"])
        out = metric.predict(lines["translations"], refs, lines["sources"])
    except XllmError as err:
        print(f"{p.prog}: error: {err}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        scores = out["scores"]
        print(
            f"COMET system score: {sum(scores) / len(scores):.6f} ({len(scores)} segments, {metric.signature()})"
        )
        if args.out:
            write_text(args.out, json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
