"""k-nearest-neighbour top-1 of frozen features: a zero-training signal of what an encoder separates.

Cosine similarity, the k nearest training features vote with weight exp(similarity / 0.07) (the weighted
k-NN of Wu et al. 2018 and DINO's `eval_knn.py`, temperature 0.07). A multi-view validation video is the
mean of its views' normalised features. Chunked over the validation rows, so memory is a chunk × the bank.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

TEMPERATURE = 0.07


def flat_features(features: torch.Tensor, views: bool = False) -> torch.Tensor:
    """(N, [V,] k, ...) pooled features → (N, D): views averaged after normalising, k calls averaged."""
    if views:  # (N, V, k, D...)
        per_view = F.normalize(features.float().mean(2).flatten(2), dim=-1)
        return F.normalize(per_view.mean(1), dim=-1)
    return F.normalize(features.float().mean(1).flatten(1), dim=-1)


@torch.no_grad()
def knn_top1(bank: torch.Tensor, bank_labels: torch.Tensor, queries: torch.Tensor, labels: torch.Tensor,
             k: int, num_classes: int, chunk: int = 1024) -> float:
    """Top-1 (%) of the queries (N, D) voted by their k nearest of the bank (M, D); rows already normalised."""
    if len(bank) == 0 or len(queries) == 0:
        raise ValueError("k-NN needs training and validation features")
    k = min(k, len(bank))
    right = 0
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ bank.T
        top, index = sims.topk(k, dim=1)
        votes = torch.zeros(len(sims), num_classes, dtype=sims.dtype)
        votes.scatter_add_(1, bank_labels[index], (top / TEMPERATURE).exp())
        right += int((votes.argmax(1) == labels[start:start + chunk]).sum())
    return 100.0 * right / len(queries)
