"""COMET's networks on transformers 5: the encoder, layer mix, pooling and estimators.

Module names equal unbabel-comet 2.2.7's (``encoder.model``, ``layerwise_attention``, ``estimator.ff``,
``hidden2tag``), so a checkpoint's ``state_dict`` loads as is. The computations follow its code:
``comet/encoders/xlmr*.py``, ``comet/modules/{layerwise_attention,feedforward}.py``,
``comet/models/pooling_utils.py``, ``comet/models/regression/*.py`` and ``comet/models/multitask/*.py``.
The encoder may run in half precision; the layer mix, pooling and heads always run in float32.
"""

from __future__ import annotations

import torch
from torch import nn

from .checkpoint import CometCheckpoint, check_keys


def sparsemax(x: torch.Tensor) -> torch.Tensor:
    """Sparsemax of a vector (Martins & Astudillo 2016), computed as the ``entmax`` package does."""
    x = x - x.max()
    ordered, _ = torch.sort(x, descending=True)
    cumsum = ordered.cumsum(0) - 1
    ranks = torch.arange(1, x.numel() + 1, device=x.device, dtype=x.dtype)
    support = (ranks * ordered > cumsum).sum()
    tau = cumsum[support - 1] / support.to(x.dtype)
    return torch.clamp(x - tau, min=0)


class LayerMix(nn.Module):
    """COMET's ``LayerwiseAttention``: ``gamma * sum_k w_k * layer_k``, ``w`` = softmax or sparsemax of
    scalar weights, each layer optionally normalised over a sentence's unpadded positions."""

    def __init__(self, num_layers: int, layer_norm: bool, use_sparsemax: bool) -> None:
        super().__init__()
        self.scalar_parameters = nn.ParameterList([nn.Parameter(torch.zeros(1)) for _ in range(num_layers)])
        self.gamma = nn.Parameter(torch.ones(1))
        self.layer_norm = layer_norm
        self.use_sparsemax = use_sparsemax

    def forward(self, layers: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        weights = torch.cat(list(self.scalar_parameters))
        normed = sparsemax(weights) if self.use_sparsemax else torch.softmax(weights, dim=0)
        if self.layer_norm:
            layers = [_masked_layer_norm(t, mask.float()) for t in layers]
        return self.gamma * sum(w * t for w, t in zip(torch.split(normed, 1), layers, strict=True))


def _masked_layer_norm(tensor: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    broadcast = mask.unsqueeze(-1)
    batch, _, dim = tensor.size()
    masked = tensor * broadcast
    count = mask.sum(1) * dim
    mean = (masked.view(batch, -1).sum(1) / count).view(batch, 1, 1)
    variance = (((masked - mean) * broadcast) ** 2).view(batch, -1).sum(1) / count
    return (tensor - mean) / torch.sqrt(variance + 1e-12).view(batch, 1, 1)


def feed_forward(in_dim: int, hidden: list[int], activation: str, final: str | None, out_dim: int = 1):
    """COMET's ``FeedForward.ff``: Linear, activation, Dropout per hidden size, then Linear (+ final)."""

    def act(name: str) -> nn.Module:
        if not hasattr(nn, name.title()):
            raise ValueError(f"{name} is not a torch.nn activation")
        return getattr(nn, name.title())()

    modules: list[nn.Module] = []
    for size_in, size_out in zip([in_dim, *hidden[:-1]], hidden, strict=True):
        modules += [nn.Linear(size_in, size_out), act(activation), nn.Dropout(0.0)]
    modules.append(nn.Linear(hidden[-1], out_dim))
    if final is not None:
        modules.append(act(final))
    return nn.Sequential(*modules)


class _Head(nn.Module):
    def __init__(self, ff: nn.Sequential) -> None:
        super().__init__()
        self.ff = ff

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.ff(features)


class Encoder(nn.Module):
    """``encoder.model``: transformers' XLM-R or XLM-R-XL without pooler; returns every layer as COMET's
    transformers 4 encoders saw them (the last one after XLM-R-XL's final LayerNorm)."""

    def __init__(self, config, xl: bool) -> None:
        super().__init__()
        from transformers import XLMRobertaModel, XLMRobertaXLModel

        self.model = (XLMRobertaXLModel if xl else XLMRobertaModel)(config, add_pooling_layer=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> list[torch.Tensor]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return [*out.hidden_states[:-1], out.last_hidden_state]


class CometNet(nn.Module):
    """The weights of any supported COMET class; :mod:`.predict` drives it."""

    def __init__(self, ckpt: CometCheckpoint, config) -> None:
        super().__init__()
        hp = ckpt.hparams
        self.kind = ckpt.class_identifier
        self.unified = self.kind in ("unified_metric", "xcomet_metric")
        self.input_segments: list[str] = list(hp["input_segments"]) if self.unified else []
        self.encoder = Encoder(config, xl=hp["encoder_model"] == "XLM-RoBERTa-XL")
        num_layers = config.num_hidden_layers + 1
        self.layer = hp["sent_layer"] if self.unified else hp["layer"]
        if self.layer == "mix":
            self.layerwise_attention = LayerMix(num_layers, bool(hp["layer_norm"]), ckpt.sparsemax)
        elif not (isinstance(self.layer, int) and 0 <= self.layer < num_layers):
            raise ValueError(f"{ckpt.path}: invalid encoder layer {self.layer!r} in the hparams")
        self.pool = hp["pool"]
        width = config.hidden_size
        in_dim = {"regression_metric": 6 * width, "referenceless_regression_metric": 4 * width}.get(
            self.kind, width
        )
        self.estimator = _Head(
            feed_forward(in_dim, hp["hidden_sizes"], hp["activations"], hp["final_activation"])
        )
        self.word_level = self.unified and bool(hp["word_level_training"])
        if self.word_level:
            self.labels = ["O", *(f"I-{label}" for label in hp["error_labels"])]
            self.word_layer = hp["word_layer"]
            self.hidden2tag = nn.Linear(width, len(self.labels))

    def mixed(self, layers: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
        layers = [t.float() for t in layers]
        if self.layer == "mix":
            return self.layerwise_attention(layers, mask)
        return layers[self.layer]

    def sentence_embedding(self, ids: torch.Tensor, mask: torch.Tensor, pad_id: int) -> torch.Tensor:
        """Regression models: one pooled vector per sentence (``pool``: avg, max, cls or default)."""
        layers = self.encoder(ids, mask)
        if self.pool == "default":
            return layers[-1][:, 0, :].float()
        emb = self.mixed(layers, mask)
        pad = ids.eq(pad_id).unsqueeze(-1)
        if self.pool == "avg":
            summed = emb.masked_fill(pad, 0.0).sum(1)
            return summed / mask.unsqueeze(-1).expand(emb.size()).float().sum(1)
        if self.pool == "max":
            return emb.masked_fill(pad, float("-inf")).max(dim=1)[0]
        if self.pool == "cls":
            return emb[:, 0, :]
        raise ValueError(f"invalid COMET pooling {self.pool!r}")

    def regression_scores(
        self, src: torch.Tensor, mt: torch.Tensor, ref: torch.Tensor | None
    ) -> torch.Tensor:
        if ref is None:  # referenceless_regression_metric
            features = (mt, src, mt * src, torch.abs(mt - src))
        else:
            features = (mt, ref, mt * ref, torch.abs(mt - ref), mt * src, torch.abs(mt - src))
        return self.estimator(torch.cat(features, dim=1)).view(-1)

    def unified_forward(
        self, ids: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Unified models: the score from the first token of the layer mix, and word-tag logits."""
        layers = self.encoder(ids, mask)
        score = self.estimator(self.mixed(layers, mask)[:, 0, :]).view(-1)
        logits = self.hidden2tag(layers[self.word_layer].float()) if self.word_level else None
        return score, logits


def build(ckpt: CometCheckpoint, config) -> CometNet:
    """The network of ``ckpt`` with its weights (shapes checked first; nothing randomly initialised)."""
    with torch.device("meta"):
        net = CometNet(ckpt, config)
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    check_keys(ckpt.path, expected, ckpt.state_dict)
    net.load_state_dict({k: ckpt.state_dict[k] for k in expected}, strict=True, assign=True)
    for module in net.modules():  # transformers' non-persistent buffers, left on the meta device
        for name, buf in list(module.named_buffers(recurse=False)):
            if buf.is_meta:
                if name == "position_ids":
                    value = torch.arange(buf.shape[-1]).expand(buf.shape)
                elif name == "token_type_ids":
                    value = torch.zeros(buf.shape, dtype=buf.dtype)
                else:
                    raise RuntimeError(f"COMET: buffer {name} of {type(module).__name__} was not initialised")
                module.register_buffer(name, value.to(buf.dtype).contiguous(), persistent=False)
    return net.eval()
