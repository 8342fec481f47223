"""Judge throughput: N judgments against the scripted local server with fixed latency.

    python benchmarks/bench_judge.py [--n 1000] [--latency 0.1] [--concurrency 8] [--sequential 50]

Runs N distinct QA judgments through :class:`JudgeClient` (real ``openai`` client, real HTTP on
127.0.0.1, a fresh sqlite cache) at the given concurrency (default: the client's default), then a
sequential loop (concurrency 1) over the first ``--sequential`` of them, extrapolated to N. Prints the
wall time as a ratio to the ideal N x latency / concurrency and the speed-up over the sequential loop.
A rerun of the same N (all cached) is timed too.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from xllm_harness.judging.backend import ChatRequest
from xllm_harness.judging.cache import JudgeCache
from xllm_harness.judging.client import JudgeClient, JudgeSettings
from xllm_harness.judging.prompts import parse_yes_no, qa_messages
from xllm_harness.plugins.judges.openai_compat import OpenAICompatJudge
from xllm_harness.testing.judge_server import JudgeServer

KEY = "sk-bench-0123456789abcdefghijklmnop"


def requests(n: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            qa_messages(f"Context: item {i} says the colour is blue.\nQuestion: colour?\nAnswer: ", "blue")
        )
        for i in range(n)
    ]


def timed(
    server: JudgeServer, cache: Path, batch: list[ChatRequest], concurrency: int
) -> tuple[float, JudgeClient]:
    judge = OpenAICompatJudge("bench-judge", base_url=server.base_url, api_key=KEY)
    client = JudgeClient(judge, JudgeSettings(concurrency=concurrency, progress=False), JudgeCache(cache))
    start = time.perf_counter()
    replies = client.run(batch)
    wall = time.perf_counter() - start
    assert all(parse_yes_no(r.text) is True for r in replies.values()), "wrong or failed judgments"
    return wall, client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=JudgeSettings().concurrency)
    parser.add_argument("--sequential", type=int, default=50, help="size of the sequential subset")
    args = parser.parse_args()
    batch = requests(args.n)
    with tempfile.TemporaryDirectory() as tmp, JudgeServer(KEY, latency=args.latency) as server:
        wall, client = timed(server, Path(tmp) / "a.sqlite", batch, args.concurrency)
        assert client.usage.requests == args.n and server.max_in_flight <= args.concurrency
        rerun, again = timed(server, Path(tmp) / "a.sqlite", batch, args.concurrency)
        assert again.usage.requests == 0
        subset = batch[: args.sequential]
        seq_wall, _ = timed(server, Path(tmp) / "b.sqlite", subset, 1)
    ideal = args.n * args.latency / args.concurrency
    sequential = seq_wall / len(subset) * args.n
    print(f"judgments: {args.n}, server latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}")
    print(f"wall time:                  {wall:8.2f} s  (max in flight at server: {server.max_in_flight})")
    print(f"ideal N*latency/concurrency:{ideal:8.2f} s  -> wall/ideal = {wall / ideal:.3f}")
    print(
        f"sequential loop:            {sequential:8.2f} s  (measured on {len(subset)}, extrapolated x{args.n / len(subset):g})"
        f"  -> speed-up {sequential / wall:.2f}x"
    )
    print(f"rerun, all cached:          {rerun:8.2f} s  (0 requests)")


if __name__ == "__main__":
    main()
