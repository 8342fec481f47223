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


def load_examples(args: TrainArgs, verbose: bool):
    """The training examples: a built ``.jsonl`` file, or a spec (and allocation) built now."""
    from xllm_harness.trainers import data

    if args.data.endswith(".jsonl") and Path(args.data).is_file():
        if args.allocation is not None:
            raise InputError(
                f"--allocation cannot extend the built file {args.data}: pass the spec instead, or build "
                "both with `xllm data build SPEC --allocation FILE -o data.jsonl`"
            )
        examples = data.read_jsonl(args.data)
        if verbose:
            print(f"data: {len(examples):,} examples from {args.data}", file=sys.stderr)
        return examples
    built = data.build(
        args.data,
        allocation=args.allocation,
        seed=args.seed,
        direction=args.direction,
        instructions=args.instructions,
    )
    if verbose:
        print(built.summary(), file=sys.stderr)
    return built.examples


def _resume_from(args: TrainArgs, ckpt_root: Path) -> Path | None:
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


def _check_same_run(args: TrainArgs, state: dict, path: Path) -> None:
    saved = state.get("args", {})
    changed = [k for k in TRAJECTORY if k in saved and saved[k] != getattr(args, k)]
    if changed:
        raise InputError(
            f"checkpoint {path} was written with different {', '.join(changed)} "
            f"({', '.join(f'{k}={saved[k]!r}' for k in changed)}); use the same options, another "
            "--output-dir, or --resume never"
        )


def _log(out: Path, record: dict) -> None:
    with open(out / "train_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def train(args: TrainArgs) -> Path:
    import torch
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_cosine_schedule_with_warmup

    from xllm_harness.trainers import checkpoint
    from xllm_harness.trainers.distributed import clip_grad_norm, describe, make_accelerator, shard_model
    from xllm_harness.trainers.tokenize import collate, encode_all, label_tokens, make_plan

    # --- processes, precision, seed -------------------------------------------------------------
    accelerator = make_accelerator(args.sharding, args.mixed_precision)
    world, rank, main = accelerator.num_processes, accelerator.process_index, accelerator.is_main_process
    accumulation = accumulation_steps(args.effective_batch, world, args.micro_batch)
    set_seed(args.seed)
    out = Path(args.output_dir)
    ckpt_root = out / "checkpoints"

    # --- data: build, tokenize (prompt masked, target = output + EOS), schedule ------------------
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token  # padding is never attended to nor learned
    examples = load_examples(args, verbose=main)
    encoded, enc_stats = encode_all(tokenizer, examples, args.max_length, progress=args.progress and main)
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
    total_steps = len(plan.steps) if args.max_steps is None else min(args.max_steps, len(plan.steps))

    # --- model, sharding, optimizer, schedule ----------------------------------------------------
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
    scheduler = get_cosine_schedule_with_warmup(
        optimizer, math.ceil(args.warmup_ratio * total_steps), total_steps
    )

    # --- resume (model, optimizer, scheduler, RNG; the step fixes the data position) ------------
    start_step = 0
    resume_path = _resume_from(args, ckpt_root)
    if resume_path is not None:
        state = checkpoint.load(resume_path, model, optimizer, scheduler, accelerator)
        _check_same_run(args, state, resume_path)
        start_step = state["step"]

    setup = {
        "event": "setup",
        **describe(accelerator, model),
        "accumulation": accumulation,
        "micro_batch": args.micro_batch,
        "effective_batch": args.effective_batch,
        "examples": len(encoded),
        "truncated": enc_stats.truncated,
        "dropped_too_long": enc_stats.dropped,
        "batching": args.batching,
        "padding_waste": round(plan.padding_waste, 4),
        "steps_per_epoch": plan.steps_per_epoch,
        "total_steps": total_steps,
        "start_step": start_step,
        "resumed_from": str(resume_path) if resume_path else None,
    }
    if main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "train_args.json").write_text(json.dumps(asdict(args), indent=2))
        _log(out, setup)
        print(
            f"world size {world}, wrapper {setup['wrapper']} ({setup['wrapped_modules']} wrapped modules), "
            f"{setup['local_parameters']:,}/{setup['parameters']:,} parameters on rank 0, "
            f"accumulation {accumulation}, padding waste {plan.padding_waste:.1%} ({args.batching}), "
            f"{total_steps} steps" + (f", resuming after step {start_step}" if start_step else ""),
            file=sys.stderr,
        )
    pad_id = tokenizer.pad_token_id

    # --- the loop ----------------------------------------------------------------------------------
    model.train()
    bar = tqdm(
        total=total_steps,
        initial=start_step,
        desc="training",
        disable=not (args.progress and main),
        file=sys.stderr,
    )
    started = time.perf_counter()
    for step in range(start_step, total_steps):
        micro_batches = plan.steps[step]  # [accumulation][rank] -> units
        # the loss is normalised by the response tokens of the whole effective batch (all ranks)
        step_tokens = sum(label_tokens(encoded, units) for per_rank in micro_batches for units in per_rank)
        input_tokens = sum(
            len(encoded[i]) for per_rank in micro_batches for units in per_rank for u in units for i in u
        )
        denominator = torch.tensor(float(step_tokens), device=accelerator.device)
        step_loss = torch.zeros((), device=accelerator.device)
        for per_rank in micro_batches:
            batch = {k: v.to(accelerator.device) for k, v in collate(encoded, per_rank[rank], pad_id).items()}
            with accelerator.autocast():
                loss = model(**batch, num_items_in_batch=denominator, use_cache=False).loss
            accelerator.backward(loss * world)  # wrappers average gradients over ranks; we want the sum
            step_loss += loss.detach()
        grad_norm = clip_grad_norm(model, args.max_grad_norm) if args.max_grad_norm > 0 else None
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step_loss = accelerator.reduce(step_loss, reduction="sum").item()

        if main:
            record = {
                "step": step + 1,
                "epoch": plan.epoch_of_step[step],
                "loss": step_loss,
                "lr": lr,
                "grad_norm": grad_norm,
                "tokens": step_tokens,
                "input_tokens": input_tokens,
                "elapsed_s": round(time.perf_counter() - started, 3),
            }
            _log(out, record)
            bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr:.2e}")
        bar.update(1)
        if args.save_every > 0 and (step + 1) % args.save_every == 0 and step + 1 < total_steps:
            meta = {"epoch": plan.epoch_of_step[step], "args": asdict(args), "world_size": world}
            checkpoint.save(
                ckpt_root, step + 1, model, optimizer, scheduler, accelerator, meta, args.keep_checkpoints
            )
    bar.close()

    # --- the final model, in Hugging Face format -----------------------------------------------
    checkpoint.save_hf(out, model, tokenizer, accelerator)
    if main:
        _log(out, {"event": "done", "steps": total_steps, "output_dir": str(out)})
        print(f"saved the trained model to {out}", file=sys.stderr)
    accelerator.end_training()
    return out
