"""How the model is spread over processes: accelerate's FSDP plugin on GPUs, torch FSDP2 on CPUs.

accelerate ignores its FSDP plugin on CPU and silently wraps the model in DDP (notes/facts.md), so
with several CPU processes we call torch's ``fully_shard`` ourselves: each decoder layer, then the
whole model, on a 1-D ``cpu`` device mesh over the gloo process group that accelerate set up. On GPUs
accelerate's FSDP plugin does the same wrapping (``transformer_based_wrap`` on the model's decoder
layer class, FSDP2). :func:`describe` reports what was actually used; the trainer logs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch

from xllm_harness.errors import InputError

SHARDING = ("auto", "fsdp", "none")


def resolve_mixed_precision(value: str) -> str:
    """``auto`` → ``bf16`` where the GPU supports it, else ``no`` (fp32)."""
    if value != "auto":
        if value not in ("no", "bf16", "fp16"):
            raise InputError(f"--mixed-precision {value!r}: use auto, no, bf16 or fp16")
        return value
    return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"


def make_accelerator(sharding: str, mixed_precision: str):
    """An ``Accelerator``; on several GPUs (or ``--sharding fsdp``) with accelerate's FSDP plugin."""
    from accelerate import Accelerator, FullyShardedDataParallelPlugin

    if sharding not in SHARDING:
        raise InputError(f"--sharding {sharding!r}: use one of {', '.join(SHARDING)}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    plugin = None
    configured = os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"
    if cuda and not configured and (sharding == "fsdp" or (sharding == "auto" and world > 1)):
        plugin = FullyShardedDataParallelPlugin(
            fsdp_version=2,
            auto_wrap_policy="transformer_based_wrap",  # each decoder layer (model._no_split_modules)
            reshard_after_forward=True,
            state_dict_type="SHARDED_STATE_DICT",
        )
    return Accelerator(
        mixed_precision=resolve_mixed_precision(mixed_precision), fsdp_plugin=plugin, cpu=not cuda
    )


def decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The repeated decoder blocks (classes named in ``model._no_split_modules``)."""
    names = set(getattr(model, "_no_split_modules", None) or [])
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise InputError(
            f"cannot find the decoder layers of {type(model).__name__} to shard "
            "(it declares no _no_split_modules); use --sharding none"
        )
    return layers


def shard_model(accelerator, model: torch.nn.Module, sharding: str, make_optimizer: Callable):
    """Wrap/shard ``model`` for this run (see the module docstring); returns it and its optimizer.

    ``make_optimizer(params)`` builds the optimizer; it is called at the point each path needs it
    (accelerate's FSDP2 preparation swaps the optimizer's parameters for the sharded ones).
    """
    from accelerate.utils import DistributedType

    world = accelerator.num_processes
    if accelerator.distributed_type == DistributedType.FSDP:
        model, optimizer = accelerator.prepare(model, make_optimizer(model.parameters()))
        return model, optimizer.optimizer  # we step the torch optimizer ourselves (no accumulation wrapper)
    if world > 1 and sharding != "none" and accelerator.device.type == "cpu":
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (world,))
        for layer in decoder_layers(model):
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        return model, make_optimizer(model.parameters())
    if world > 1 and sharding == "fsdp":
        raise InputError(
            "--sharding fsdp: accelerate did not set up FSDP; launch with accelerate or torchrun"
        )
    model = accelerator.prepare_model(model)  # one device; or DDP with --sharding none on several
    return model, make_optimizer(model.parameters())


def wrapper_name(model: torch.nn.Module) -> str:
    """``FSDP2`` (fully_shard), ``FSDP1``, ``DDP`` or ``none``."""
    from torch.distributed.fsdp import FSDPModule, FullyShardedDataParallel
    from torch.nn.parallel import DistributedDataParallel

    if isinstance(model, FSDPModule):
        return "FSDP2"
    if isinstance(model, FullyShardedDataParallel):
        return "FSDP1"
    if isinstance(model, DistributedDataParallel):
        return "DDP"
    return "none"


def describe(accelerator, model: torch.nn.Module) -> dict[str, Any]:
    """What is really used: world size, wrapper, device, how much of the parameters this rank holds."""
    from torch.distributed.tensor import DTensor

    params = list(model.parameters())
    full = sum(p.numel() for p in params)
    local = sum((p.to_local() if isinstance(p, DTensor) else p).numel() for p in params)
    dtensors = [p for p in params if isinstance(p, DTensor)]
    wrapped = sum(1 for m in model.modules() if wrapper_name(m) in ("FSDP2", "FSDP1"))
    return {
        "world_size": accelerator.num_processes,
        "wrapper": wrapper_name(model),
        "wrapped_modules": wrapped,
        "device": str(accelerator.device),
        "mixed_precision": accelerator.mixed_precision,
        "distributed_type": str(accelerator.distributed_type),
        "parameters": full,
        "local_parameters": local,
        "dtensor_parameters": len(dtensors),
        "mesh_size": dtensors[0].device_mesh.size() if dtensors else 1,
        "placements": sorted({str(p.placements) for p in dtensors}),
    }


def clip_grad_norm(model: torch.nn.Module, max_norm: float) -> float:
    """Clip the global gradient norm (sharded gradients included); returns the norm before clipping."""
    if wrapper_name(model) == "FSDP1":
        norm = model.clip_grad_norm_(max_norm)
    else:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    if hasattr(norm, "full_tensor"):
        norm = norm.full_tensor()
    return float(norm)
