"""The BLEURT network in plain torch: a post-LayerNorm BERT encoder with BLEURT-20's embedding projection,
a tanh pooler on ``[CLS]`` and a one-output regression head.

Module names follow the checkpoints bleurt-pytorch writes (``bleurt.embeddings.word_embeddings.weight``,
``bleurt.encoder.embedding_projection.weight``, ``bleurt.encoder.layer.0.attention.self.query.weight``,
..., ``classifier.weight``), so its ``state_dict`` loads as is. Attention runs through
``torch.nn.functional.scaled_dot_product_attention`` (the installed torch's fused kernels).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import BadCheckpointError, Checkpoint, check_keys, load_state_dict

ACTIVATIONS = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}


class _Embeddings(nn.Module):
    def __init__(self, config: dict[str, Any], width: int) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config["vocab_size"], width)
        self.position_embeddings = nn.Embedding(config["max_position_embeddings"], width)
        self.token_type_embeddings = nn.Embedding(config.get("type_vocab_size", 2), width)
        self.LayerNorm = nn.LayerNorm(width, eps=config.get("layer_norm_eps", 1e-12))

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        return self.LayerNorm(x + self.position_embeddings(positions))


class _Dense(nn.Module):
    """A ``dense`` projection (BERT's intermediate and pooler sublayers)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)


class _Output(nn.Module):
    """``dense``, then residual + ``LayerNorm`` (BERT's output sublayers)."""

    def __init__(self, n_in: int, n_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        self.LayerNorm = nn.LayerNorm(n_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _SelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            heads(self.query(x)), heads(self.key(x)), heads(self.value(x)), mask
        )
        return out.transpose(1, 2).reshape(b, n, d)


class _Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(hidden, heads)
        self.output = _Output(hidden, hidden, eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, mask), x)


class _Layer(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        hidden, eps = config["hidden_size"], config.get("layer_norm_eps", 1e-12)
        self.attention = _Attention(hidden, config["num_attention_heads"], eps)
        self.intermediate = _Dense(hidden, config["intermediate_size"])
        self.output = _Output(config["intermediate_size"], hidden, eps)
        self.act = ACTIVATIONS[config.get("hidden_act", "gelu")]

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, mask)
        return self.output(self.act(self.intermediate.dense(x)), x)


class _Encoder(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        if config.get("embedding_size") is not None:
            self.embedding_projection = nn.Linear(config["embedding_size"], config["hidden_size"])
        self.layer = nn.ModuleList(_Layer(config) for _ in range(config["num_hidden_layers"]))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "embedding_projection"):
            x = self.embedding_projection(x)
        for layer in self.layer:
            x = layer(x, mask)
        return x


class _Body(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.embeddings = _Embeddings(config, config.get("embedding_size") or config["hidden_size"])
        self.encoder = _Encoder(config)
        self.pooler = _Dense(config["hidden_size"], config["hidden_size"])


class BleurtRegressor(nn.Module):
    """``BleurtForSequenceClassification`` at inference: pair token ids in, one score per pair out."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        if config["hidden_size"] % config["num_attention_heads"]:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        self.bleurt = _Body(config)
        self.classifier = nn.Linear(config["hidden_size"], 1)

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """Scores, shape ``(batch,)``; ``attention_mask`` is 1 on tokens, 0 on padding."""
        x = self.bleurt.embeddings(input_ids, token_type_ids)
        mask = attention_mask.bool()[:, None, None, :]  # True: attend
        x = self.bleurt.encoder(x, mask)
        pooled = torch.tanh(self.bleurt.pooler.dense(x[:, 0]))
        return self.classifier(pooled).squeeze(-1)


def build(checkpoint: Checkpoint) -> BleurtRegressor:
    """The network of ``checkpoint`` with its weights, in eval mode on the CPU (float32)."""
    config = checkpoint.config
    act = config.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise BadCheckpointError(
            f"{checkpoint.folder / 'config.json'}: hidden_act {act!r} is not one of {', '.join(ACTIVATIONS)}"
        )
    try:
        with torch.device("meta"):
            net = BleurtRegressor(config)
    except ValueError as err:
        raise BadCheckpointError(f"{checkpoint.folder / 'config.json'}: {err}") from None
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    state = check_keys(checkpoint.weights, load_state_dict(checkpoint.weights), expected)
    net.load_state_dict({k: v.float() for k, v in state.items()}, assign=True)
    return net.eval()
