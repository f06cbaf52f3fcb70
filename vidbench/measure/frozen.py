"""A frozen encoder's features of a run's splits, cached (`feature_cache.py`), and the loaders a probe trains on.

The augmentation policy (`train.probe_views`), the same with and without the cache:
- N >= 1: N views of each training video are drawn up front (draw d reads the split in order, its random
  crops and starts seeded by the run's seed and d); epoch e trains on draw (e - 1) mod N.
- 0 (the default): each epoch trains on what the training loader draws, as before the cache. Cached only
  when the split draws nothing at random (the synthetic datasets, `random`): then every draw is the same
  one, draw 0. A split that augments is then encoded again every epoch.
A split that draws nothing at random has one draw whatever N. Each epoch visits the rows in the order the
training loader would (the same seeded shuffle), so a probe on cached features trains on the same batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch.utils.data import Dataset

import vidbench
from vidbench.devices import device_ops
from vidbench.data.loader import make_loader
from vidbench.measure import feature_cache
from vidbench.measure.feature_cache import FeatureBank, require_space
from vidbench.measure.precision import autocast
from vidbench.measure.probe_features import FeatureTap, encode


def plain(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON types only (tuples as lists, paths as text): what a cache file stores and is compared with."""
    return json.loads(json.dumps(fields, sort_keys=True, default=str))


def draws_at_random(dataset: Dataset) -> bool:
    """Whether reading an item twice can give two clips: a video split that samples or crops at random.
    vidbench's generated datasets are pure functions of the index; anything unknown is assumed random."""
    if type(dataset).__module__ == "vidbench.data.synthetic":
        return False
    sampler = getattr(dataset, "sampler", None)
    return sampler is None or bool(getattr(sampler, "train", True))


@dataclass
class FrozenEncoder:
    """The frozen model of a run and what its features are computed from."""

    model: torch.nn.Module  # on the device, eval mode, hooked by `tap`
    tap: FeatureTap
    spec: Any
    data: Any  # DatasetSplits
    kind: str  # "pooled" or "tokens"
    folder: Path | None  # <run folder>/features, or None (nothing kept)
    enabled: bool = True  # train.feature_cache

    def __post_init__(self):
        self.device = torch.device(self.spec.device)
        self.batch = int(self.spec.train["batch_size"])
        self.records: dict[str, Any] = {}
        self.encoded_clips = 0  # clips run through the encoder in this run (0 when everything was a hit)
        self.state = feature_cache.state_digest(self.model, self.tap.head)

    def fields(self, split: str, draw: int | None) -> dict[str, Any]:
        s = self.spec
        args = {k: v for k, v in s.resolved_model_args().items() if k not in ("weights",)}
        return plain({"vidbench": vidbench.__version__, "torch": str(torch.__version__), "model": s.model, "model_args": args,
                "encoder_state": self.state, "dataset": s.dataset, "dataset_args": s.resolved_dataset_args(),
                "seed": s.seed, "clip_length": s.clip_length, "resolution": list(s.resolution),
                "frame_stride": s.frame_stride, "split": split, "draw": draw, "kind": self.kind,
                "precision": s.precision, "channels_last": s.channels_last, "device": device_ops(self.device).kind})

    # -- the banks ----------------------------------------------------------------------------
    def train_draws(self) -> int:
        views = int(self.spec.train.get("probe_views") or 0)
        return 1 if not draws_at_random(self.data.train) else views

    def train_bank(self, draw: int, keep: bool = True) -> FeatureBank:
        loader = make_loader(self.data.train, self.batch, device=self.device, seed=self.draw_seed(draw))
        return self._bank("train", draw, loader, keep, self.draw_seed(draw))

    def val_bank(self) -> FeatureBank:
        return self._bank("val", None, make_loader(self.data.val, self.batch, device=self.device,
                                                   seed=self.spec.seed), True, self.spec.seed)

    def draw_seed(self, draw: int) -> int:
        return self.spec.seed * 1000 + draw

    def _bank(self, split: str, draw: int | None, loader, keep: bool, seed: int) -> FeatureBank:
        def build() -> FeatureBank:
            torch.manual_seed(seed)  # random crops in the main process draw from the global generator
            return self.extract(loader)

        bank, record = feature_cache.cached(self.folder, self.fields(split, draw), build, self.enabled and keep)
        self.records[split if draw is None else f"train draw {draw}"] = record
        return bank

    @torch.no_grad()
    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """Features of a batch of clips (B, C, T, H, W) or views (B, V, C, T, H, W) → (B, [V,] ...)."""
        clips = clips.to(self.device, non_blocking=True)
        if self.spec.channels_last and clips.ndim == 5:
            clips = clips.contiguous(memory_format=torch.channels_last_3d)
        self.encoded_clips += clips.shape[0] * (clips.shape[1] if clips.ndim == 6 else 1)
        with autocast(self.device, self.spec.precision):
            if clips.ndim == 6:
                return torch.stack([encode(self.model, self.tap, clips[:, v], self.kind)
                                    for v in range(clips.shape[1])], 1)
            return encode(self.model, self.tap, clips, self.kind)

    def extract(self, loader) -> FeatureBank:
        """One pass of the encoder over a loader; checks the disk after the first batch."""
        parts, labels = [], []
        for clips, y in loader:
            parts.append(self.features(clips).detach().cpu().clone())
            labels.append(y.cpu())
            if len(parts) == 1 and self.folder is not None and self.enabled:
                require_space(self.folder, parts[0].numel() * parts[0].element_size() * len(loader))
        if not parts:
            raise ValueError("the split gave no readable clip")
        return FeatureBank(torch.cat(parts), torch.cat(labels))


class IndexOrder:
    """Each epoch's batches of row indices, in the order the training loader (shuffled, seeded) visits."""

    def __init__(self, rows: int, batch: int, seed: int):
        self.loader = make_loader(range(rows), batch, shuffle=True, num_workers=0, seed=seed)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter(self.loader)


class BankLoader:
    """(features, labels) batches of epoch e from `bank_of(e)` (1-based epochs, one per iteration)."""

    def __init__(self, bank_of: Callable[[int], FeatureBank], order: IndexOrder):
        self.bank_of, self.order, self.epoch = bank_of, order, 0

    def __len__(self) -> int:
        return len(self.order)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.epoch += 1
        bank = self.bank_of(self.epoch)
        for index in self.order:
            yield bank.features[index], bank.labels[index]


class LiveLoader:
    """The training loader's own batches, encoded as they come (a split that augments, `probe_views: 0`)."""

    def __init__(self, encoder: FrozenEncoder, clip_loader):
        self.encoder, self.clip_loader = encoder, clip_loader

    def __len__(self) -> int:
        return len(self.clip_loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for clips, labels in self.clip_loader:
            yield self.encoder.features(clips), labels


def batches_of(bank: FeatureBank, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A validation bank as (features, labels) batches, in order."""
    return [(bank.features[i:i + batch], bank.labels[i:i + batch]) for i in range(0, len(bank.labels), batch)]


def training_loader(encoder: FrozenEncoder) -> BankLoader | LiveLoader:
    """What a probe trains on under the run's `probe_views` policy, cached or (feature_cache: false) encoded
    again every epoch."""
    s, draws = encoder.spec, encoder.train_draws()
    if draws == 0:
        return LiveLoader(encoder, make_loader(encoder.data.train, encoder.batch, shuffle=True,
                                               device=encoder.device, seed=s.seed))
    order = IndexOrder(len(encoder.data.train), encoder.batch, s.seed)
    if encoder.enabled:
        banks = [encoder.train_bank(d) for d in range(draws)]
        return BankLoader(lambda epoch: banks[(epoch - 1) % draws], order)
    return BankLoader(lambda epoch: encoder.train_bank((epoch - 1) % draws, keep=False), order)
