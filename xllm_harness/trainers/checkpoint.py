"""Checkpoints that resume exactly: model, optimizer, scheduler, RNG and data position.

Model and optimizer go through ``torch.distributed.checkpoint`` (each rank writes its own shards; a
checkpoint loads on another world size too); the scheduler, the step (which fixes the data position,
since the schedule is a function of the seed) and every rank's RNG states are saved next to them.
A checkpoint is written into ``step-N.tmp`` and renamed when complete (``results.files.replace_dir``),
so a kill during saving leaves the previous checkpoint as the latest complete one; a checkpoint whose
parameters are not all finite numbers is never written. The final model is saved separately in
Hugging Face format (full state dict gathered on rank 0) into a temporary folder whose files are
then moved into the output folder one rename each, ``config.json`` last.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xllm_harness.results import files

PREFIX = "step-"


def _step_of(path: Path) -> int:
    return int(path.name[len(PREFIX) :])


def complete_checkpoints(root: Path) -> list[Path]:
    """Finished checkpoints under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.glob(f"{PREFIX}*") if p.is_dir() and p.name[len(PREFIX) :].isdigit()]
    found = [p for p in found if (p / "trainer_state.json").is_file()]
    return sorted(found, key=_step_of)


def clear_unfinished(out_dir: Path) -> None:
    """Delete what a killed run left half-written in ``out_dir`` (main process, before training):
    unfinished checkpoints (``step-N.tmp``), replaced ones (``.step-N.*.old``), the final model's
    temporary folder and the temporaries of the log and options files."""
    root = out_dir / "checkpoints"
    for path in [*root.glob(f"{PREFIX}*.tmp"), *root.glob(f".{PREFIX}*.old"), out_dir / MODEL_TMP]:
        shutil.rmtree(path, ignore_errors=True)
    for name in ("train_log.jsonl", "train_args.json"):
        files.remove_leftovers(out_dir / name)


@contextlib.contextmanager
def _single_process_ok():
    """Silence DCP's warning that a run without a process group saves/loads in one process (intended)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        yield


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(
    root: Path, step: int, model, optimizer, scheduler, accelerator, meta: dict[str, Any], keep: int = 2
) -> Path:
    """Write checkpoint ``root/step-<step>`` (all ranks call this), keep the newest ``keep``."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    final = root / f"{PREFIX}{step:08d}"
    tmp = root / f"{final.name}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    model_sd, optim_sd = get_state_dict(model, optimizer)
    with _single_process_ok():
        dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=str(tmp))
    torch.save(_rng_state(), tmp / f"rng_rank{accelerator.process_index}.pt")
    if accelerator.is_main_process:
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        files.write_json(tmp / "trainer_state.json", {"step": step, **meta})
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        files.replace_dir(tmp, final)
        for old in complete_checkpoints(root)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def parameters_finite(model, accelerator) -> bool:
    """Whether every parameter on every rank is a finite number (one all-reduce)."""
    local = (p.to_local() if hasattr(p, "to_local") else p for p in model.parameters())  # DTensor shards
    bad = sum(int((~torch.isfinite(t.detach())).any()) for t in local)
    flag = torch.tensor(float(bad), device=accelerator.device)
    return accelerator.reduce(flag, reduction="sum").item() == 0


def load(path: Path, model, optimizer, scheduler, accelerator) -> dict[str, Any]:
    """Restore a checkpoint written by :func:`save`; returns its ``trainer_state.json``."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    model_sd, optim_sd = get_state_dict(model, optimizer)
    state = {"model": model_sd, "optim": optim_sd}
    with _single_process_ok():
        dcp.load(state, checkpoint_id=str(path))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"])
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))
    rng = path / f"rng_rank{accelerator.process_index}.pt"
    if rng.is_file():  # absent when resuming on more processes than saved
        _set_rng_state(torch.load(rng, weights_only=False))
    return json.loads((path / "trainer_state.json").read_text())


MODEL_TMP = ".final-model.tmp"
"""Where the final model is written before its files move into the output folder."""


def save_hf(out_dir: Path, model, tokenizer, accelerator) -> None:
    """The final model in Hugging Face format (loads with ``lm_eval --model hf``): written whole into
    ``out_dir/.final-model.tmp``, then each file renamed into ``out_dir``, ``config.json`` last (a
    folder without it does not load as a model)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if accelerator.is_main_process:
        tmp = out_dir / MODEL_TMP
        shutil.rmtree(tmp, ignore_errors=True)  # a kill during an earlier save
        tmp.mkdir(parents=True)
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.config.use_cache = True
        unwrapped.save_pretrained(tmp, state_dict=full, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        files.move_files(tmp, out_dir, last=("config.json",))
    accelerator.wait_for_everyone()
