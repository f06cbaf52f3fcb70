"""What a frozen encoder hands a probe, derived from the model's registered head (no per-model declaration).

- `pooled`: the input of the registered head module, (B, k, ...) with k the head's calls per clip (1; a TSN
  scores each of its k frames and averages). A linear probe's logits are the head on it, averaged over k:
  exactly the model's own logits when what follows the head is that average (checked on every batch the
  cache is built from: `head_logits` against the model's output).
- `tokens`: the spatio-temporal features the head's input was pooled from, (B, N, D): the last activation
  before the head that still has more than one position, as tokens: (L, N, D) for a transformer's token
  sequence, (L, C, T, H, W) or (L, C, H, W) feature maps for a CNN's last stage (C the token width), with
  L = k × B rows (a 2D CNN's frames) folded into the token axis.

Why derived, not declared: every registered model already names its head, which fixes where the pooled
features are; the feature map before the pooling is the last multi-position activation before it in every
family (3D/2D CNNs, CNN+RNN, the transformers), so no family file needs a new declaration.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

KINDS = ("pooled", "tokens")


class NotProbeable(ValueError):
    """The model's features cannot be cached for a probe (the run trains as it did before the cache)."""


def head_module(model: nn.Module, head: tuple[str, ...]) -> nn.Module:
    """The one module the model registered as its head (`register_model(head=...)`)."""
    modules = dict(model.named_modules())
    found = [modules[p] for p in head if p in modules]
    if len(found) != 1:
        raise NotProbeable(f"the model declares {len(head)} head modules ({', '.join(head) or 'none'}); "
                           "a cached probe needs exactly one")
    return found[0]


def as_tokens(x: torch.Tensor, batch: int) -> torch.Tensor | None:
    """(B, N, D) tokens of one activation (rows k × B folded in), or None if it has one position only."""
    if x.ndim < 3 or x.shape[0] % batch:
        return None
    t = x if x.ndim == 3 else x.flatten(2).transpose(1, 2)  # maps: (L, C, *S) → (L, S, C)
    t = t.reshape(batch, -1, t.shape[-1])
    return t if t.shape[1] > 1 else None


class FeatureTap:
    """Hooks on a model that keep, for one forward pass, the head's input and the last multi-position
    activation before it. `with FeatureTap(model, head) as tap: logits = model(clips)`."""

    def __init__(self, model: nn.Module, head: nn.Module):
        self.model, self.head = model, head
        self.handles: list[Any] = []
        self.head_inputs: list[torch.Tensor] = []
        self.last: torch.Tensor | None = None
        self.batch = 1

    def __enter__(self) -> "FeatureTap":
        inside = {id(m) for m in self.head.modules()}
        self.handles.append(self.head.register_forward_pre_hook(self._at_head))
        for module in self.model.modules():
            if id(module) not in inside:
                self.handles.append(module.register_forward_hook(self._after))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self.handles:
            handle.remove()

    def _at_head(self, module, args) -> None:
        self.head_inputs.append(args[0])

    def _after(self, module, args, output) -> None:
        if not self.head_inputs and isinstance(output, torch.Tensor) and as_tokens(output, self.batch) is not None:
            self.last = output

    def reset(self, batch: int) -> None:
        self.head_inputs, self.last, self.batch = [], None, batch

    def pooled(self, batch: int) -> torch.Tensor:
        if len(self.head_inputs) != 1:
            raise NotProbeable(f"the head ran {len(self.head_inputs)} times in one forward pass")
        x = self.head_inputs[0]
        if x.shape[0] % batch:
            raise NotProbeable(f"the head's input has {x.shape[0]} rows for a batch of {batch}")
        return x.reshape(batch, x.shape[0] // batch, *x.shape[1:])

    def tokens(self, batch: int) -> torch.Tensor:
        tokens = None if self.last is None else as_tokens(self.last, batch)
        if tokens is None:
            raise NotProbeable("no activation with more than one position before the head (no tokens or "
                               "feature map for an attentive probe)")
        return tokens


def head_logits(head: nn.Module, pooled: torch.Tensor) -> torch.Tensor:
    """The head on pooled features (B, k, ...), averaged over its k calls per clip: (B, classes)."""
    b, k = pooled.shape[:2]
    return head(pooled.reshape(b * k, *pooled.shape[2:])).reshape(b, k, -1).mean(1)


class HeadOnFeatures(nn.Module):
    """The model's own head as a module over pooled features: what a cached linear probe trains."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return head_logits(self.head, pooled)


@torch.no_grad()
def encode(model: nn.Module, tap: FeatureTap, clips: torch.Tensor, kind: str) -> torch.Tensor:
    """`kind` features of a batch; for `pooled`, the head on them must give the model's logits."""
    tap.reset(len(clips))
    logits = model(clips)
    if kind == "tokens":
        return tap.tokens(len(clips))
    pooled = tap.pooled(len(clips))
    again = head_logits(tap.head, pooled)
    if again.shape != logits.shape or not torch.allclose(again.float(), logits.float(), rtol=1e-3, atol=1e-4):
        raise NotProbeable("the model's output is not its head on the head's input (averaged over its calls): "
                           "a cached linear probe would train another model")
    return pooled
