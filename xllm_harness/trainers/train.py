"""CoIT/MuIT instruction tuning of any Hugging Face causal LM: one accelerate training loop.

Run as ``xllm train`` (one process), or under ``accelerate launch`` / ``torchrun`` (several). The
paper's defaults (appendix A): lr 2e-5, cosine schedule, 3 % warmup, weight decay 0, effective batch
128 (= world size × micro-batch × accumulation), 3 epochs, max length 512, bf16 where available.
The loss is the mean over the response tokens of the whole effective batch (paper eq. 1), so one
process and N processes compute the same updates.

Output folder: the final model and tokenizer (Hugging Face format), ``train_log.jsonl`` (setup, then
one line per step: loss, lr, grad norm, tokens; ``done`` at the end), ``checkpoints/step-N``
(periodic, for exact resume after a kill: rerun the same command) and ``train_args.json``. Every file
is written whole (``results.files``): a kill leaves the previous version, never a shorter one. A
resumed run drops the log lines of the steps it redoes, so each step is logged once; a finished run
rerun says so and trains nothing. A loss or gradient that is not a finite number stops the run
before the optimizer applies it, naming the step; checkpoints already written stay.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.results import files
from xllm_harness.results.jsonio import read_jsonl
from xllm_harness.train_sources import Example, Problem
from xllm_harness.trainers.data import DataOptions, check_seed
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

    def data_options(self) -> DataOptions:
        """The data part of the options (shared with ``xllm data build``)."""
        return DataOptions(
            spec=self.data or None,
            allocation=self.allocation,
            seed=self.seed,
            direction=self.direction,
            instructions=self.instructions,
        )

    def check(self) -> None:
        """Every numeric option in its range (one error naming the option), before anything starts."""
        check_seed(self.seed)
        whole = {
            "--epochs": (self.epochs, 1),
            "--max-steps": (self.max_steps, 1),
            "--effective-batch": (self.effective_batch, 1),
            "--micro-batch": (self.micro_batch, 1),
            "--max-length": (self.max_length, 2),
            "--save-every": (self.save_every, 0),
            "--keep-checkpoints": (self.keep_checkpoints, 1),
        }
        for option, (value, least) in whole.items():
            if value is not None and value < least:
                raise InputError(f"{option} {value}: use a whole number of at least {least}")
        reals = {  # option: (value, lowest, highest, lowest allowed itself)
            "--learning-rate": (self.learning_rate, 0.0, math.inf, False),
            "--warmup-ratio": (self.warmup_ratio, 0.0, 1.0, True),
            "--weight-decay": (self.weight_decay, 0.0, math.inf, True),
            "--max-grad-norm": (self.max_grad_norm, 0.0, math.inf, True),
        }
        for option, (value, low, high, closed) in reals.items():
            above = value >= low if closed else value > low
            if not (math.isfinite(value) and above and value <= high):
                where = (
                    f"from {low:g} to {high:g}"
                    if math.isfinite(high)
                    else (f"{'at least' if closed else 'above'} {low:g}")
                )
                raise InputError(f"{option} {value}: use a finite number {where}")


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
    built = data.build_from(args.data_options())
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


def _trajectory_changes(saved: dict[str, Any], args: Any) -> str:
    """``different lr, seed (lr=..., seed=...)``: the options of the training trajectory that differ
    from those ``saved`` with a checkpoint or a finished run; empty when none does."""
    changed = [k for k in TRAJECTORY if k in saved and saved[k] != getattr(args, k)]
    if not changed:
        return ""
    return f"different {', '.join(changed)} ({', '.join(f'{k}={saved[k]!r}' for k in changed)})"


def restore(args: TrainArgs, path: Path, model, optimizer, scheduler, accelerator) -> int:
    """Load checkpoint ``path`` (model, optimizer, scheduler, RNG); returns its step. A checkpoint of
    another trajectory (different data, seed, lr, batch...) is refused."""
    from xllm_harness.trainers import checkpoint

    state = checkpoint.load(path, model, optimizer, scheduler, accelerator)
    changed = _trajectory_changes(state.get("args", {}), args)
    if changed:
        raise InputError(
            f"checkpoint {path} was written with {changed}; use the same options, another "
            "--output-dir, or --resume never"
        )
    return state["step"]


LOG = "train_log.jsonl"


class TrainLog:
    """``train_log.jsonl``, kept in memory and written whole after each record (a kill leaves the
    previous whole file, never a cut line)."""

    def __init__(self, path: Path, records: list[dict[str, Any]]) -> None:
        self.path = path
        self.lines = [json.dumps(r, allow_nan=False) + "\n" for r in records]

    @classmethod
    def resume(cls, out: Path, start_step: int) -> TrainLog:
        """The log of ``out`` up to ``start_step``: the step records after it (redone on resume) and an
        earlier ``done`` are dropped, so each step is logged once. ``start_step`` 0 starts afresh."""
        path = out / LOG
        if start_step == 0 or not path.is_file():
            return cls(path, [])
        kept = []
        for line, record in read_jsonl(path):
            if not isinstance(record, dict):
                raise InputError(f"{path}:{line}: a log record is an object; remove the line or the file")
            step = record.get("step")
            if record.get("event") == "done" or (isinstance(step, int) and step > start_step):
                continue
            kept.append(record)
        return cls(path, kept)

    def append(self, record: dict[str, Any], sync: bool = True) -> None:
        """Add ``record`` and rewrite the file; ``sync=False`` (every step) skips the flush to disk."""
        self.lines.append(json.dumps(record, allow_nan=False) + "\n")
        files.write_text(self.path, "".join(self.lines), sync=sync)


def finished_run(args: TrainArgs) -> bool:
    """Whether ``--output-dir`` holds the finished run of these options (log ends with ``done``, the
    model is there). A finished run of other options is refused (naming them); ``--resume never``
    trains again."""
    out = Path(args.output_dir)
    log, saved_args = out / LOG, out / "train_args.json"
    if args.resume != "auto" or not log.is_file() or not (out / "config.json").is_file():
        return False
    records = read_jsonl(log)
    if not records or not isinstance(records[-1][1], dict) or records[-1][1].get("event") != "done":
        return False
    from xllm_harness.results.jsonio import read_json

    saved = read_json(saved_args, "training options")
    changed = _trajectory_changes(saved if isinstance(saved, dict) else {}, args)
    if changed:
        raise InputError(
            f"{out} holds a finished run with {changed}; use the same options, another "
            "--output-dir, or --resume never to train again"
        )
    return True


def likely_cause(args: TrainArgs) -> str:
    """Why a loss stops being a number, from the options (a mistyped learning rate first)."""
    if args.learning_rate > 1e-2:
        mantissa, _, exponent = f"{args.learning_rate:.0e}".partition("e")
        return (
            f"--learning-rate {args.learning_rate:g} is far above fine-tuning rates (the paper's is 2e-05; "
            f"did you mean {mantissa}e-{exponent.lstrip('+-').lstrip('0') or '0'}?)"
        )
    if args.mixed_precision == "fp16":
        return "fp16 overflowed; use --mixed-precision bf16 or no, or a lower --learning-rate"
    return "the learning rate is too high for this model and data; lower --learning-rate"


def report_setup(
    args: TrainArgs,
    accelerator,
    model,
    data: TrainData,
    accumulation: int,
    start_step: int,
    resumed: Path | None,
    log: TrainLog | None,
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
    files.write_json(out / "train_args.json", asdict(args))
    log.append(setup)
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
    total_loss = accelerator.reduce(step_loss, reduction="sum").item()
    if not math.isfinite(total_loss) or (grad_norm is not None and not math.isfinite(grad_norm)):
        what = (
            f"the loss is {total_loss}"
            if not math.isfinite(total_loss)
            else f"the gradient norm is {grad_norm}"
        )
        raise Diverged(step + 1, what)  # before the optimizer applies it
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return {
        "step": step + 1,
        "epoch": data.plan.epoch_of_step[step],
        "loss": total_loss,
        "lr": lr,
        "grad_norm": grad_norm,
        "tokens": step_tokens,
        "input_tokens": input_tokens,
    }


class Diverged(Exception):
    """A step whose loss or gradient is not a finite number (raised on every rank alike)."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"step {step}: {what}")
        self.step, self.what = step, what


def train_loop(
    args: TrainArgs,
    accelerator,
    model,
    optimizer,
    scheduler,
    data: TrainData,
    start_step: int,
    log: TrainLog | None,
) -> None:
    """Steps ``start_step`` … ``total_steps``: log each, checkpoint every ``--save-every`` (not the last:
    the final model is saved instead). Parameters that stop being finite numbers are never saved."""
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
        done = step + 1
        due = args.save_every > 0 and done % args.save_every == 0 and done < data.total_steps
        if main:  # on disk before a checkpoint says these steps are done
            log.append({**record, "elapsed_s": round(time.perf_counter() - started, 3)}, sync=due)
            bar.set_postfix(loss=f"{record['loss']:.4f}", lr=f"{record['lr']:.2e}")
        bar.update(1)
        if due:
            if not checkpoint.parameters_finite(model, accelerator):
                raise Diverged(done, "the parameters are no longer finite numbers after the update")
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


def stop_diverged(args: TrainArgs, err: Diverged, log: TrainLog | None) -> InputError:
    """The one-line error of a diverged run; the event is logged, the checkpoints stay."""
    from xllm_harness.trainers.checkpoint import complete_checkpoints

    kept = complete_checkpoints(Path(args.output_dir) / "checkpoints")
    if log is not None:
        log.append({"event": "diverged", "step": err.step, "reason": err.what})
    last = f"the last good checkpoint, {kept[-1]}, stays" if kept else "no checkpoint was written"
    return InputError(
        f"training diverged at step {err.step}: {err.what}; likely cause: "
        f"{likely_cause(args)}. Nothing was saved for it ({last}); rerun with corrected options and "
        "--resume never or another --output-dir"
    )


def train(args: TrainArgs) -> Path:
    """Train ``args.model`` on ``args.data``; returns the output folder (see the module docstring)."""
    from accelerate.utils import set_seed

    from xllm_harness.models.hf import check_pretrained
    from xllm_harness.trainers.checkpoint import clear_unfinished, parameters_finite, save_hf
    from xllm_harness.trainers.distributed import make_accelerator

    # 1. options in range, the model exists, the output folder is writable (before anything heavy)
    args.check()
    check_pretrained(args.model, "--model")
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {out} is a file; name a folder")
    if finished_run(args):
        print(
            f"{out} already holds the finished run of these options (train_log.jsonl ends with 'done'); "
            "nothing to train. Use another --output-dir, or --resume never to train again.",
            file=sys.stderr,
        )
        return out
    files.check_writable(out, "--output-dir", create=False)
    accelerator = make_accelerator(args.sharding, args.mixed_precision)
    accumulation = accumulation_steps(args.effective_batch, accelerator.num_processes, args.micro_batch)
    set_seed(args.seed)
    if accelerator.is_main_process:
        clear_unfinished(out)

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
    log = TrainLog.resume(out, start_step) if accelerator.is_main_process else None
    report_setup(args, accelerator, model, data, accumulation, start_step, resumed, log)

    # 4. the loop, with periodic checkpoints; a step that is not a number stops it
    try:
        train_loop(args, accelerator, model, optimizer, scheduler, data, start_step, log)
        if not parameters_finite(model, accelerator):
            raise Diverged(data.total_steps, "the parameters are no longer finite numbers after the update")
    except Diverged as err:
        raise stop_diverged(args, err, log) from None

    # 5. the final model, in Hugging Face format
    save_hf(out, model, tokenizer, accelerator)
    if accelerator.is_main_process:
        log.append({"event": "done", "steps": data.total_steps, "output_dir": str(out)})
        print(f"saved the trained model to {out}", file=sys.stderr)
    accelerator.end_training()
    return out
