"""Top-k accuracy: percent of samples (never an average of per-batch percentages)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from vidbench.measure import training
from vidbench.measure.accuracy import evaluate, topk_correct
from vidbench.measure.training import lr_factor, make_optimizer, make_scheduler, train_epochs

CPU = torch.device("cpu")


def test_topk_correct_on_hand_made_logits():
    logits = torch.tensor([
        [0.9, 0.05, 0.03, 0.02],  # ranking 0 1 2 3
        [0.1, 0.2, 0.6, 0.1],  # ranking 2 1 0/3
        [0.3, 0.4, 0.2, 0.1],  # ranking 1 0 2 3
    ])
    labels = torch.tensor([0, 1, 3])
    assert topk_correct(logits, labels, 1) == 1  # only the first
    assert topk_correct(logits, labels, 2) == 2  # the second (label 1 ranked 2nd) joins
    assert topk_correct(logits, labels, 4) == 3


class Lookup(nn.Module):
    """Returns the stored logits of each sample, addressed by an id in the clip's first element."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.table = logits
        self.dropout = nn.Dropout(p=0.999)  # in train mode this would scramble everything

    def forward(self, clips):
        ids = clips.flatten(1)[:, 0].long()
        return self.dropout(self.table[ids])


def lookup_case(correct_top1: list[bool], num_classes: int):
    """A model and dataset where sample i is right at top-1 exactly when correct_top1[i]."""
    n = len(correct_top1)
    labels = torch.tensor([i % num_classes for i in range(n)])
    logits = torch.zeros(n, num_classes)
    for i, ok in enumerate(correct_top1):
        target = labels[i] if ok else (labels[i] + 1) % num_classes
        logits[i, target] = 1.0
    clips = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1, 1).expand(n, 3, 2, 2, 2).contiguous()
    return Lookup(logits), TensorDataset(clips, labels)


def test_evaluate_divides_by_samples_not_batches():
    # 5 samples in batches of 4 and 1: 3/4 right, then 0/1. Per sample: 60 %; mean of batches: 37.5 %.
    model, data = lookup_case([True, True, True, False, False], num_classes=4)
    acc = evaluate(model, DataLoader(data, batch_size=4), 4, CPU, "fp32")
    assert acc.samples == 5
    assert acc.top1 == pytest.approx(60.0)


def test_evaluate_runs_the_model_in_eval_mode():
    model, data = lookup_case([True] * 4, num_classes=4)
    model.train()
    assert evaluate(model, DataLoader(data, batch_size=3), 4, CPU, "fp32").top1 == pytest.approx(100.0)
    assert not model.training


def test_top5_is_none_with_five_classes_or_fewer():
    model, data = lookup_case([False] * 5, num_classes=5)
    acc = evaluate(model, DataLoader(data, batch_size=2), 5, CPU, "fp32")
    assert acc.top1 == 0.0
    assert acc.top5 is None


def test_top5_with_more_than_five_classes():
    # Wrong at top-1 but the label is second best for every sample: top-5 is 100 %.
    n, k = 7, 8
    labels = torch.arange(n) % k
    logits = torch.zeros(n, k)
    logits[torch.arange(n), (labels + 1) % k] = 2.0
    logits[torch.arange(n), labels] = 1.0
    clips = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1, 1).expand(n, 3, 1, 1, 1).contiguous()
    acc = evaluate(Lookup(logits), DataLoader(TensorDataset(clips, labels), batch_size=3), k, CPU, "fp32")
    assert acc.top1 == 0.0
    assert acc.top5 == pytest.approx(100.0)


def test_an_empty_validation_split_is_an_error():
    model, _ = lookup_case([True], num_classes=2)
    empty = TensorDataset(torch.empty(0, 3, 1, 1, 1), torch.empty(0, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, DataLoader(empty, batch_size=2), 2, CPU, "fp32")


def test_training_a_separable_problem_reaches_full_accuracy():
    torch.manual_seed(0)
    n, k = 64, 4
    labels = torch.arange(n) % k
    clips = torch.randn(n, 3, 2, 4, 4) * 0.1
    clips[torch.arange(n), labels % 3, 0, 0, 0] += 3.0 * (1 + (labels // 3))  # a linearly separable cue
    data = TensorDataset(clips, labels)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 2 * 4 * 4, k))
    losses = train_epochs(model, DataLoader(data, batch_size=16, shuffle=True),
                          {"epochs": 30, "optimizer": "adamw", "lr": 0.05, "weight_decay": 0.0}, CPU, "fp32")
    assert len(losses) == 30
    assert losses[-1] < losses[0]
    assert evaluate(model, DataLoader(data, batch_size=16), k, CPU, "fp32").top1 == pytest.approx(100.0)


@pytest.mark.parametrize("name", ["adamw", "adam", "sgd"])
def test_make_optimizer_builds_the_named_optimizer(name):
    opt = make_optimizer(nn.Linear(2, 2).parameters(),
                         {"optimizer": name, "lr": 0.01, "weight_decay": 0.1, "momentum": 0.5})
    assert type(opt).__name__.lower() == name
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["weight_decay"] == 0.1


def test_lr_factor_warms_up_linearly_then_follows_the_schedule():
    assert [lr_factor(i, 10, "constant", 4) for i in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert [lr_factor(i, 10, "constant", 0) for i in (0, 9)] == [1.0, 1.0]
    cosine = [lr_factor(i, 10, "cosine", 0) for i in range(10)]
    assert cosine[0] == 1.0 and cosine[5] == pytest.approx(0.5) and cosine[-1] == pytest.approx(0.0245, abs=1e-4)
    assert all(a > b for a, b in zip(cosine, cosine[1:]))
    # the warm-up overrides the start of the cosine, which still spans every step (timm's default)
    assert lr_factor(1, 10, "cosine", 2) == 1.0 and lr_factor(2, 10, "cosine", 2) == pytest.approx(cosine[2])
    with pytest.raises(ValueError, match="step"):
        lr_factor(5, 10, "step", 0)


def test_train_epochs_steps_the_schedule_once_per_batch(monkeypatch):
    """After 2 epochs of 4 batches with a 1-epoch warm-up and a cosine, the optimizer's lr is the cosine's
    at step 8 of 8, and it rose during the first epoch."""
    data = TensorDataset(torch.randn(16, 3, 2, 4, 4), torch.arange(16) % 2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 2 * 4 * 4, 2))
    train = {"epochs": 2, "optimizer": "sgd", "lr": 0.1, "weight_decay": 0.0, "schedule": "cosine",
             "warmup_epochs": 1}
    seen = []
    optimizer = make_optimizer(model.parameters(), train)
    scheduler = make_scheduler(optimizer, train, steps_per_epoch=4)
    for _ in range(8):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    assert seen[4:] == pytest.approx([0.1 * lr_factor(i, 8, "cosine", 4) for i in range(4, 8)])
    made = []
    monkeypatch.setattr(training, "make_scheduler", lambda *args: made.append(make_scheduler(*args)) or made[-1])
    train_epochs(model, DataLoader(data, batch_size=4), train, CPU, "fp32")
    assert made[0].last_epoch == 8  # one step per batch, 4 batches an epoch
    assert made[0].get_last_lr() == pytest.approx([0.0])  # the cosine's end


def test_a_fractional_warm_up_rounds_up_to_whole_steps():
    optimizer = make_optimizer(nn.Linear(2, 2).parameters(), {"optimizer": "sgd", "lr": 0.3, "weight_decay": 0.0})
    make_scheduler(optimizer, {"epochs": 2, "schedule": "constant", "warmup_epochs": 0.5}, steps_per_epoch=5)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1)  # 2.5 steps → 3: the first step at 1/3
