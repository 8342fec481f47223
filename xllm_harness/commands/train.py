"""``xllm train``: CoIT/MuIT instruction tuning (the data options are ``xllm data build``'s).

Several processes: ``torchrun --nproc_per_node 8 -m xllm_harness.cli train ...`` or
``accelerate launch --config_file fsdp.yaml -m xllm_harness.cli train ...`` (docs/training.md).
"""

from __future__ import annotations

import argparse

from xllm_harness.commands import add_data_options
from xllm_harness.errors import InputError

TRAIN_DESCRIPTION = """\
CoIT/MuIT instruction tuning of any Hugging Face causal LM with accelerate (the paper's recipe:
3 epochs, lr 2e-5, batch 128). One process trains on one device; several processes
(torchrun/accelerate launch) shard the model with FSDP. The output folder holds the final model,
train_log.jsonl and checkpoints/; a rerun resumes from the latest checkpoint (--resume auto)."""
TRAIN_EPILOG = """\
examples:
  xllm train --model huggyllama/llama-7b --data alpaca_en+alpaca_zh+translation_en-zh -o x-llama-7b-zh
  torchrun --nproc_per_node 8 -m xllm_harness.cli train --model MODEL --data coit.jsonl -o out/m
  xllm train --model ./tiny --data coit.jsonl -o out/tiny-coit --max-steps 20 --micro-batch 2"""


def register(sub) -> None:
    from xllm_harness.trainers.train import TrainArgs

    d = TrainArgs(model="", output_dir="", data="")
    p = sub.add_parser(
        "train",
        help="CoIT/MuIT instruction tuning (accelerate; FSDP on several processes)",
        description=TRAIN_DESCRIPTION,
        epilog=TRAIN_EPILOG,
    )
    p.add_argument("--model", required=True, help="Hugging Face model id or folder (any causal LM)")
    p.add_argument("--output-dir", "-o", required=True, help="final model, train_log.jsonl, checkpoints/")
    add_data_options(p, spec_required=False)
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the data")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    p.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        default=d.learning_rate,
        help="peak learning rate (cosine schedule)",
    )
    p.add_argument(
        "--warmup-ratio", type=float, default=d.warmup_ratio, help="fraction of the steps spent warming up"
    )
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="AdamW weight decay")
    p.add_argument(
        "--effective-batch",
        type=int,
        default=d.effective_batch,
        help="world size × micro-batch × accumulation",
    )
    p.add_argument(
        "--micro-batch", type=int, default=d.micro_batch, help="units per forward pass per process"
    )
    p.add_argument(
        "--max-length",
        type=int,
        default=d.max_length,
        help="tokens per example: longer ones are cut, one whose prompt fills it is dropped (counted)",
    )
    p.add_argument(
        "--batching",
        default=d.batching,
        choices=["group", "pack", "none"],
        help="group: length grouping (paper batch semantics); pack: several examples per row, no cross-attention; none: plain padding",
    )
    p.add_argument(
        "--mixed-precision",
        default=d.mixed_precision,
        choices=["auto", "no", "bf16", "fp16"],
        help="auto: bf16 where the device supports it, else no",
    )
    p.add_argument("--max-grad-norm", type=float, default=d.max_grad_norm, help="0 disables clipping")
    p.add_argument(
        "--sharding",
        default=d.sharding,
        choices=["auto", "fsdp", "none"],
        help="auto: FSDP when several processes",
    )
    p.add_argument(
        "--gradient-checkpointing", action="store_true", help="recompute activations: less memory, slower"
    )
    p.add_argument("--save-every", type=int, default=d.save_every, help="checkpoint every N steps (0: never)")
    p.add_argument(
        "--keep-checkpoints",
        type=int,
        default=d.keep_checkpoints,
        help="newest checkpoints kept, older deleted",
    )
    p.add_argument(
        "--resume",
        default=d.resume,
        help="auto (latest checkpoint in the output dir), never, or a checkpoint folder",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it shows on a terminal only)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from xllm_harness.trainers.train import TrainArgs, train

    if not args.data and not args.allocation:
        raise InputError("give --data SPEC (or a built .jsonl) and/or --allocation FILE")
    train(
        TrainArgs(
            model=args.model,
            output_dir=args.output_dir,
            data=args.data or "",
            allocation=args.allocation,
            direction=args.direction,
            instructions=args.instructions,
            seed=args.seed,
            epochs=args.epochs,
            max_steps=args.max_steps,
            learning_rate=args.learning_rate,
            warmup_ratio=args.warmup_ratio,
            weight_decay=args.weight_decay,
            effective_batch=args.effective_batch,
            micro_batch=args.micro_batch,
            max_length=args.max_length,
            batching=args.batching,
            mixed_precision=args.mixed_precision,
            max_grad_norm=args.max_grad_norm,
            sharding=args.sharding,
            gradient_checkpointing=args.gradient_checkpointing,
            save_every=args.save_every,
            keep_checkpoints=args.keep_checkpoints,
            resume=args.resume,
            progress=not args.no_progress,
        )
    )
    return 0
