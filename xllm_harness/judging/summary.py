"""The final line of every judge run: what was judged, what was not and why, what it cost."""

from __future__ import annotations

from typing import Any

from xllm_harness.judging.accounting import Usage, usd


def _cost(usage: Usage) -> str:
    if usage.unknown_usage:
        return f"{usd(usage.cost_usd)} + {usage.unknown_usage} repl(ies) of unknown cost (unusable usage)"
    return usd(usage.cost_usd)


def summary_line(kind: str, counts: dict[str, Any], usage: Usage) -> str:
    """``judge KIND: judged J, gated G (reason), unparseable U, failed F, skipped S (reasons); from
    cache C, requests R (T retries[, B from batches at the discount]), cost X``."""
    gated = f"gated {counts['gated']}"
    if counts["gated"]:
        gated += f" ({counts['gate_reason']})"
    requests = f"requests {usage.requests} ({usage.retries} retries"
    if usage.batch_requests:
        requests += f"; {usage.batch_requests} from batches at {usage.batch_discount:g}x the price"
    requests += ")"
    skipped = f"skipped {sum(counts['skipped'].values())}"
    if counts["skipped"]:
        skipped += " (" + ", ".join(f"{reason} {n}" for reason, n in sorted(counts["skipped"].items())) + ")"
    return (
        f"judge {kind}: judged {counts['judged']}, {gated}, unparseable {counts['unparseable']}, "
        f"failed {counts['failed']}, {skipped}; from cache {usage.cache_hits}, {requests}, cost {_cost(usage)}"
    )


def _skipped(rows: list[dict[str, Any]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for row in rows:
        for reason, n in row.get("skipped_by_reason", {}).items():
            total[reason] = total.get(reason, 0) + n
    return total


def qa_counts(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Items over every task; an empty answer is NO without a judge call (it counts as gated)."""
    empty = sum(row["empty_answers"] for row in results.values())
    return {
        "judged": sum(row["n"] for row in results.values()) - empty,
        "gated": empty,
        "gate_reason": "empty answer: NO without a call",
        "unparseable": sum(row["unparseable"] for row in results.values()),
        "failed": sum(row["failed"] for row in results.values()),
        "skipped": _skipped(list(results.values())),
    }


def pairwise_counts(total: dict[str, Any]) -> dict[str, Any]:
    """Items of the ``all`` row; gated items are split by which answer was off-language."""
    reason = (
        f"language gate: A off {total['gated_a_off']}, B off {total['gated_b_off']}, "
        f"both off {total['gated_both_off']}"
    )
    return {
        "judged": total["judged"],
        "gated": total["gated"],
        "gate_reason": reason,
        "unparseable": total["unparseable"],
        "failed": total["failed"],
        "skipped": {
            reason: total[f"skipped_{reason}"]
            for reason in ("budget", "interrupted", "pending")
            if total[f"skipped_{reason}"]
        },
    }


def all_gated_line(total: dict[str, Any]) -> str | None:
    """A plain sentence when the language gate decided every item (no judge call was made)."""
    if not total["items"] or total["gated"] < total["items"]:
        return None
    return (
        f"judge pairwise: every item ({total['items']}) was decided by the language gate, none by the judge "
        f"(A off-language {total['gated_a_off']}, B {total['gated_b_off']}, both {total['gated_both_off']}); "
        "the win/tie/loss counts are the gate's: check the answers' language (--gate-by) before reading them"
    )
