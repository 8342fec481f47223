"""Batch API against synchronous calls: N QA judgments through the local server both ways.

    python benchmarks/bench_batch.py [--n 1000] [--latency 0.1] [--turnaround 5] [--concurrency 8]

Both routes use the real ``openai`` client and real HTTP on 127.0.0.1 (``JudgeServer``), each with a
fresh cache, at list prices for gpt-3.5-turbo. Synchronous: one chat-completions call per judgment,
``--latency`` seconds each, ``--concurrency`` in flight. Batch: one upload, one submission, polls every
``--poll`` s (growing 1.5x) and two downloads; the server finishes the batch after ``--turnaround``
seconds. Prints HTTP requests made, wall time and estimated cost for each, as ratios batch/sync, and
checks that both routes give the same verdicts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from xllm_harness.judging.backend import ChatRequest
from xllm_harness.judging.batch_api import BatchTransport
from xllm_harness.judging.cache import JudgeCache
from xllm_harness.judging.client import JudgeClient, JudgeSettings
from xllm_harness.judging.prompts import parse_yes_no, qa_messages
from xllm_harness.plugins.judges.openai_compat import OpenAICompatJudge
from xllm_harness.testing.judge_server import JudgeServer

KEY = "sk-bench-0123456789abcdefghijklmnop"
MODEL = "gpt-3.5-turbo"  # priced from the known list prices


def requests(n: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            qa_messages(
                f"Context: item {i} says the colour is blue.\nQuestion: colour?\nAnswer: ",
                "blue" if i % 3 else "red",
            )
        )
        for i in range(n)
    ]


def route(server: JudgeServer, cache: Path, batch: list[ChatRequest], settings: JudgeSettings, batched: bool):
    judge = OpenAICompatJudge(MODEL, base_url=server.base_url, api_key=KEY)
    client = JudgeClient(judge, settings, JudgeCache(cache), BatchTransport() if batched else None)
    before = server.http_requests
    start = time.perf_counter()
    replies = client.run(batch)
    wall = time.perf_counter() - start
    verdicts = [parse_yes_no(replies[r].text) for r in batch]
    assert None not in verdicts and client.usage.requests == len(batch), "failed judgments"
    return wall, server.http_requests - before, client.usage.cost_usd, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per synchronous call")
    parser.add_argument("--turnaround", type=float, default=5.0, help="seconds until a batch completes")
    parser.add_argument("--poll", type=float, default=0.5, help="first wait between polls")
    parser.add_argument("--concurrency", type=int, default=JudgeSettings().concurrency)
    args = parser.parse_args()
    batch = requests(args.n)
    settings = JudgeSettings(
        concurrency=args.concurrency,
        progress=False,
        batch_poll_interval=args.poll,
        batch_poll_max=args.poll * 4,
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        JudgeServer(KEY, latency=args.latency, batch_turnaround=args.turnaround) as server,
    ):
        sync = route(server, Path(tmp) / "s.sqlite", batch, settings, batched=False)
        batched = route(server, Path(tmp) / "b.sqlite", batch, settings, batched=True)
    assert sync[3] == batched[3], "the routes disagree"
    print(
        f"judgments: {args.n}; sync: {args.latency * 1000:.0f} ms per call, concurrency {args.concurrency}; "
        f"batch: turnaround {args.turnaround:g} s, first poll after {args.poll:g} s"
    )
    print(f"{'':14}{'sync':>12}{'batch':>12}{'batch/sync':>12}")
    for name, i, fmt in (
        ("HTTP requests", 1, "{:12d}"),
        ("wall time (s)", 0, "{:12.2f}"),
        ("cost (USD)", 2, "{:12.5f}"),
    ):
        s, b = sync[i], batched[i]
        print(f"{name:14}{fmt.format(s)}{fmt.format(b)}{b / s:12.4f}")


if __name__ == "__main__":
    main()
