"""The one naming rule for models in every table (leaderboard, MI-Eval pairs, ``xllm compare``).

A model is identified by :class:`~xllm_harness.results.lm_eval.ModelIdentity` (lm-eval's model type and
full ``model_args``); its readable name is the last part of its ``pretrained`` path. When that part is
shared by different models, each gets the shortest path suffix that tells them apart (``a/tiny-coit``,
``b/tiny-coit``); models with the same path but other ``model_args`` get the arguments that differ in
brackets (``tiny-coit (dtype=float16)``). ``--name OLD=NEW`` renames by readable name, full path or key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xllm_harness.errors import InputError, unknown_name
from xllm_harness.results.lm_eval import ModelIdentity


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").rstrip("/").split("/") if p] or [path]


def _suffix(path: str, n: int) -> str:
    return "/".join(_parts(path)[-n:])


def _args(identity: ModelIdentity) -> dict[str, str]:
    """``model_args`` and the run's settings as ``{key: value}`` (what tells two twins apart)."""
    items = [*identity.model_args.split(","), *identity.settings.split(",")]
    pairs = (item.partition("=") for item in items if item)
    return {k: v for k, _, v in pairs}


@dataclass(frozen=True)
class Naming:
    """Readable names by identity key, and the notes that explain the disambiguated ones."""

    names: dict[str, str]
    notes: list[str]


def readable_names(identities: Iterable[ModelIdentity], aliases: dict[str, str] | None = None) -> Naming:
    """Distinct readable names for ``identities`` (see the module docstring); ``aliases`` rename (OLD→NEW)."""
    unique = {i.key: i for i in identities}
    names = {key: _suffix(i.pretrained, 1) for key, i in unique.items()}
    shared: dict[str, list[str]] = {}
    for key, name in names.items():
        shared.setdefault(name, []).append(key)
    shared = {name: keys for name, keys in sorted(shared.items()) if len(keys) > 1}
    for keys in shared.values():
        names.update(_disambiguate([unique[k] for k in keys]))
    if len(set(names.values())) < len(names):  # e.g. a named-only model and a full identity of one path
        for key in names:
            if list(names.values()).count(names[key]) > 1:
                names[key] = f"{names[key]} [{unique[key].model or 'no type'}]"
    names = _rename(names, unique, aliases or {})
    notes = []
    for name, keys in shared.items():
        described = "; ".join(
            f"{names[k]} = {unique[k].model} {unique[k].model_args}".strip()
            for k in sorted(keys, key=names.get)
        )
        notes.append(f"{len(keys)} different models are named {name!r}: {described}")
    return Naming(names, notes)


def _disambiguate(group: list[ModelIdentity]) -> dict[str, str]:
    """Names for models that share the last path part: shortest telling suffix, then differing arguments."""
    paths = {i.pretrained for i in group}
    depth, longest = 1, max(len(_parts(p)) for p in paths)
    while depth < longest and len({_suffix(p, depth) for p in paths}) < len(paths):
        depth += 1
    names = {i.key: _suffix(i.pretrained, depth) for i in group}
    same_path: dict[str, list[ModelIdentity]] = {}
    for identity in group:
        same_path.setdefault(names[identity.key], []).append(identity)
    for short, twins in same_path.items():
        if len(twins) < 2:
            continue
        args = {i.key: _args(i) for i in twins}
        differing = {
            k for a in args.values() for k, v in a.items() if any(o.get(k) != v for o in args.values())
        }
        differing -= {"pretrained", "model"}
        for identity in twins:
            extra = ",".join(f"{k}={args[identity.key].get(k, '')}" for k in sorted(differing))
            names[identity.key] = f"{short} ({extra or identity.model})"
    return names


def _rename(
    names: dict[str, str], unique: dict[str, ModelIdentity], aliases: dict[str, str]
) -> dict[str, str]:
    out = dict(names)
    for old, new in aliases.items():
        hits = [k for k in names if old in (names[k], unique[k].pretrained, unique[k].key)]
        if not hits:
            raise unknown_name(
                "model (--name OLD=NEW)", old, names.values(), "OLD is a name the table shows."
            )
        for key in hits:
            out[key] = new
    taken = list(out.values())
    clashes = sorted({n for n in taken if taken.count(n) > 1})
    if clashes:
        raise InputError(f"--name: two different models would both be called {', '.join(clashes)}")
    return out


def parse_aliases(items: Iterable[str]) -> dict[str, str]:
    """``["OLD=NEW", ...]`` (the ``--name`` option) → ``{OLD: NEW}``."""
    aliases = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise InputError(f"--name {item!r}: expected OLD=NEW")
        aliases[old] = new
    return aliases
