"""CoIT/MuIT instruction tuning of any Hugging Face causal LM: one accelerate training loop.

Run as ``xllm train`` (one process), or under ``accelerate launch`` / ``torchrun`` (several). The
paper's defaults (appendix A): lr 2e-5, cosine schedule, 3 % warmup, weight decay 0, effective batch
128 (= world size × micro-batch × accumulation), 3 epochs, max length 512, bf16 where available.
The loss is the mean over the response tokens of the whole effective batch (paper eq. 1), so one
process and N processes compute the same updates.

Output folder: the final model and tokenizer (Hugging Face format), ``train_log.jsonl`` (setup, then
one line per step: loss, lr, grad norm, tokens), ``checkpoints/step-N`` (periodic, for exact resume
after a kill: rerun the same command) and ``train_args.json``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.trainers.sources import Example, Problem
from xllm_harness.trainers.tokenize import Encoded, EncodeStats, Plan

# Fields that fix the training trajectory: resuming with different values is refused.
TRAJECTORY = (
    "model", "data", "allocation", "direction", "instructions", "seed", "epochs", "max_steps",
    "learning_rate", "warmup_ratio", "weight_decay", "effective_batch", "max_length", "batching",
    "max_grad_norm",
)  # fmt: skip


@dataclass
class TrainArgs:
    """Everything ``xllm train`` takes (see ``xllm train --help``)."""

    model: str
    output_dir: str
    data: str
    allocation: str | None = None
    direction: str = "en-x"
    instructions: str = "rotate"
    seed: int = 42
    epochs: int = 3
    max_steps: int | None = None
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    effective_batch: int = 128
    micro_batch: int = 4
    max_length: int = 512
    batching: str = "group"
    mixed_precision: str = "auto"
    max_grad_norm: float = 1.0
    sharding: str = "auto"
    gradient_checkpointing: bool = False
    save_every: int = 200
    keep_checkpoints: int = 2
    resume: str = "auto"
    progress: bool = True


def accumulation_steps(effective_batch: int, world_size: int, micro_batch: int) -> int:
    """``effective_batch / (world_size × micro_batch)``; an error if it does not divide."""
    per_pass = world_size * micro_batch
    if effective_batch <= 0 or micro_batch <= 0 or effective_batch % per_pass:
        raise InputError(
            f"--effective-batch {effective_batch} is not a positive multiple of world size {world_size} × "
            f"--micro-batch {micro_batch} = {per_pass}; change --micro-batch or the number of processes"
        )
    return effective_batch // per_pass


@dataclass
class TrainData:
    """The tokenized examples and the schedule of every optimizer step."""

    encoded: list[Encoded]
    plan: Plan
    total_steps: int
    stats: EncodeStats
    pad_id: int
    summary: str
    """What the data holds per source: examples, truncated, dropped, malformed records skipped."""
    problems: int


def load_examples(args: TrainArgs) -> tuple[list[Example], list[Problem], list[str]]:
    """The training examples of ``--data``/``--allocation``, the malformed records skipped, and notes."""
    from xllm_harness.trainers import data

    if args.data.endswith(".jsonl") and Path(args.data).is_file():
        if args.allocation is not None:
            raise InputError(
                f"--allocation cannot extend the built file {args.data}: pass the spec instead, or build "
                "both with `xllm data build SPEC --allocation FILE -o data.jsonl`"
            )
        return data.read_jsonl(args.data), [], [f"data: {args.data}"]
    built = data.build(
        args.data,
        allocation=args.allocation,
        seed=args.seed,
        direction=args.direction,
        instructions=args.instructions,
    )
    return built.examples, built.problems, built.notes


def load_tokenizer(model: str):
    """The model's tokenizer; without a pad token, EOS pads (padding is never attended to nor learned)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def build_data(args: TrainArgs, tokenizer, world: int, accumulation: int, progress: bool) -> TrainData:
    """Build the examples, tokenize them (prompt masked, target = output + EOS) and plan every step."""
    from xllm_harness.trainers.data import summary
    from xllm_harness.trainers.tokenize import encode_all, make_plan

    examples, problems, notes = load_examples(args)
    encoded, stats = encode_all(tokenizer, examples, args.max_length, progress=progress)
    if not encoded:
        raise InputError(
            f"every one of the {len(examples):,} examples has a prompt of --max-length {args.max_length} "
            "tokens or more (nothing to learn from); raise --max-length"
        )
    plan = make_plan(
        [len(e) for e in encoded],
        epochs=args.epochs,
        seed=args.seed,
        world_size=world,
        micro_batch=args.micro_batch,
        accumulation=accumulation,
        max_length=args.max_length,
        batching=args.batching,
    )
    total = len(plan.steps) if args.max_steps is None else min(args.max_steps, len(plan.steps))
    text = summary(
        stats.seen,
        problems,
        notes,
        truncated=stats.truncated_by_source,
        dropped=stats.dropped_by_source,
        max_length=args.max_length,
    )
    return TrainData(encoded, plan, total, stats, tokenizer.pad_token_id, text, len(problems))


def prepare_model(args: TrainArgs, accelerator, total_steps: int):
    """The model in fp32 (the optimizer's master copy), sharded/wrapped, its AdamW and cosine schedule."""
    import torch
    from transformers import AutoModelForCausalLM, get_cosine_schedule_with_warmup

    from xllm_harness.trainers.distributed import shard_model

    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.config.use_cache = False
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    model, optimizer = shard_model(
        accelerator,
        model,
        args.sharding,
        lambda params: torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay),
    )
    warmup = math.ceil(args.warmup_ratio * total_steps)
    return model, optimizer, get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)


def resume_from(args: TrainArgs, ckpt_root: Path) -> Path | None:
    """The checkpoint ``--resume`` names: ``auto`` the newest complete one, ``never`` none, or a folder."""
    from xllm_harness.trainers.checkpoint import complete_checkpoints

    if args.resume == "never":
        return None
    if args.resume != "auto":
        path = Path(args.resume)
        if not (path / "trainer_state.json").is_file():
            raise MissingFileError(f"--resume {path}: not a complete checkpoint (no trainer_state.json)")
        return path
    found = complete_checkpoints(ckpt_root)
    return found[-1] if found else None


def restore(args: TrainArgs, path: Path, model, optimizer, scheduler, accelerator) -> int:
    """Load checkpoint ``path`` (model, optimizer, scheduler, RNG); returns its step. A checkpoint of
    another trajectory (different data, seed, lr, batch...) is refused."""
    from xllm_harness.trainers import checkpoint

    state = checkpoint.load(path, model, optimizer, scheduler, accelerator)
    saved = state.get("args", {})
    changed = [k for k in TRAJECTORY if k in saved and saved[k] != getattr(args, k)]
    if changed:
        raise InputError(
            f"checkpoint {path} was written with different {', '.join(changed)} "
            f"({', '.join(f'{k}={saved[k]!r}' for k in changed)}); use the same options, another "
            "--output-dir, or --resume never"
        )
    return state["step"]


def _log(out: Path, record: dict) -> None:
    with open(out / "train_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def report_setup(
    args: TrainArgs,
    accelerator,
    model,
    data: TrainData,
    accumulation: int,
    start_step: int,
    resumed: Path | None,
) -> None:
    """Write ``train_args.json`` and the setup record (what is really used); print the setup line."""
    from xllm_harness.trainers.distributed import describe

    plan = data.plan
    setup = {
        "event": "setup",
        **describe(accelerator, model),
        "accumulation": accumulation,
        "micro_batch": args.micro_batch,
        "effective_batch": args.effective_batch,
        "examples": len(data.encoded),
        "sources": dict(data.stats.seen),
        "truncated": data.stats.truncated,
        "dropped_too_long": data.stats.dropped,
        "malformed_skipped": data.problems,
        "batching": args.batching,
        "padding_waste": round(plan.padding_waste, 4),
        "steps_per_epoch": plan.steps_per_epoch,
        "total_steps": data.total_steps,
        "start_step": start_step,
        "resumed_from": str(resumed) if resumed else None,
    }
    if not accelerator.is_main_process:
        return
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_args.json").write_text(json.dumps(asdict(args), indent=2))
    _log(out, setup)
    print(
        f"world size {setup['world_size']}, wrapper {setup['wrapper']} ({setup['wrapped_modules']} wrapped "
        f"modules), {setup['local_parameters']:,}/{setup['parameters']:,} parameters on rank 0, "
        f"accumulation {accumulation}, padding waste {plan.padding_waste:.1%} ({args.batching}), "
        f"{data.total_steps} steps" + (f", resuming after step {start_step}" if start_step else ""),
        file=sys.stderr,
    )


def train_step(accelerator, model, optimizer, scheduler, data: TrainData, step: int, args: TrainArgs) -> dict:
    """One optimizer step over its micro-batches; the loss is normalised by the response tokens of the
    whole effective batch (all ranks, paper eq. 1). Returns the step's log record."""
    import torch

    from xllm_harness.trainers.distributed import clip_grad_norm
    from xllm_harness.trainers.tokenize import collate, label_tokens

    world, rank, encoded = accelerator.num_processes, accelerator.process_index, data.encoded
    micro_batches = data.plan.steps[step]  # [accumulation][rank] -> units
    step_tokens = sum(label_tokens(encoded, units) for per_rank in micro_batches for units in per_rank)
    input_tokens = sum(
        len(encoded[i]) for per_rank in micro_batches for units in per_rank for u in units for i in u
    )
    denominator = torch.tensor(float(step_tokens), device=accelerator.device)
    step_loss = torch.zeros((), device=accelerator.device)
    for per_rank in micro_batches:
        batch = {
            k: v.to(accelerator.device) for k, v in collate(encoded, per_rank[rank], data.pad_id).items()
        }
        with accelerator.autocast():
            loss = model(**batch, num_items_in_batch=denominator, use_cache=False).loss
        accelerator.backward(loss * world)  # wrappers average gradients over ranks; we want the sum
        step_loss += loss.detach()
    grad_norm = clip_grad_norm(model, args.max_grad_norm) if args.max_grad_norm > 0 else None
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return {
        "step": step + 1,
        "epoch": data.plan.epoch_of_step[step],
        "loss": accelerator.reduce(step_loss, reduction="sum").item(),
        "lr": lr,
        "grad_norm": grad_norm,
        "tokens": step_tokens,
        "input_tokens": input_tokens,
    }


def train_loop(args: TrainArgs, accelerator, model, optimizer, scheduler, data: TrainData, start_step: int):
    """Steps ``start_step`` … ``total_steps``: log each, checkpoint every ``--save-every`` (not the last:
    the final model is saved instead)."""
    from xllm_harness.console import progress_bar
    from xllm_harness.trainers import checkpoint

    out = Path(args.output_dir)
    main = accelerator.is_main_process
    model.train()
    bar = progress_bar(
        desc="training",
        total=data.total_steps,
        initial=start_step,
        unit="step",
        enabled=args.progress and main,
    )
    started = time.perf_counter()
    for step in range(start_step, data.total_steps):
        record = train_step(accelerator, model, optimizer, scheduler, data, step, args)
        if main:
            _log(out, {**record, "elapsed_s": round(time.perf_counter() - started, 3)})
            bar.set_postfix(loss=f"{record['loss']:.4f}", lr=f"{record['lr']:.2e}")
        bar.update(1)
        done = step + 1
        if args.save_every > 0 and done % args.save_every == 0 and done < data.total_steps:
            meta = {"epoch": record["epoch"], "args": asdict(args), "world_size": accelerator.num_processes}
            checkpoint.save(
                out / "checkpoints",
                done,
                model,
                optimizer,
                scheduler,
                accelerator,
                meta,
                args.keep_checkpoints,
            )
    bar.close()


def train(args: TrainArgs) -> Path:
    """Train ``args.model`` on ``args.data``; returns the output folder (see the module docstring)."""
    from accelerate.utils import set_seed

    from xllm_harness.models.hf import check_pretrained
    from xllm_harness.trainers.checkpoint import save_hf
    from xllm_harness.trainers.distributed import make_accelerator

    # 1. the model exists (before anything heavy); processes, precision, seed
    check_pretrained(args.model, "--model")
    accelerator = make_accelerator(args.sharding, args.mixed_precision)
    accumulation = accumulation_steps(args.effective_batch, accelerator.num_processes, args.micro_batch)
    set_seed(args.seed)
    out = Path(args.output_dir)

    # 2. tokenizer and data: examples, tokenization, the schedule of every step
    tokenizer = load_tokenizer(args.model)
    progress = args.progress and accelerator.is_main_process
    data = build_data(args, tokenizer, accelerator.num_processes, accumulation, progress)
    if accelerator.is_main_process:
        print(data.summary, file=sys.stderr)  # on screen before the model loads

    # 3. model, sharding, optimizer, schedule; resume from a checkpoint when there is one
    model, optimizer, scheduler = prepare_model(args, accelerator, data.total_steps)
    resumed = resume_from(args, out / "checkpoints")
    start_step = restore(args, resumed, model, optimizer, scheduler, accelerator) if resumed else 0
    report_setup(args, accelerator, model, data, accumulation, start_step, resumed)

    # 4. the loop, with periodic checkpoints
    train_loop(args, accelerator, model, optimizer, scheduler, data, start_step)

    # 5. the final model, in Hugging Face format
    save_hf(out, model, tokenizer, accelerator)
    if accelerator.is_main_process:
        _log(out, {"event": "done", "steps": data.total_steps, "output_dir": str(out)})
        print(f"saved the trained model to {out}", file=sys.stderr)
    accelerator.end_training()
    return out
