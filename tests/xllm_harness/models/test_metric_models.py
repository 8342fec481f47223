"""The batching shared by the model-based metrics (COMET, BLEURT)."""

from xllm_harness.models.metric_models import token_budget_batches


def test_token_budget_batches_respect_budget_and_cover_every_item():
    lengths = [5, 300, 17, 17, 512, 3, 90, 91, 92, 400, 8, 8, 8]
    batches = token_budget_batches(lengths, max_tokens=600, max_items=4)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 600
    assert [lengths[b[0]] for b in batches] == sorted(lengths[b[0]] for b in batches)  # bucketed by length
    assert token_budget_batches([], 100, 4) == []
    assert token_budget_batches([700], 100, 4) == [[0]]  # longer than the budget: alone
