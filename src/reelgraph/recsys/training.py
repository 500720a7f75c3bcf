"""Training: softmax over items, all canvases' examples in the same shuffled batches.

Each example is (request, the item engaged with). Its loss is the cross-entropy of the
target among the negatives: every item (``negatives=0``, exact for catalogs of MovieLens's
size) or the batch's targets plus ``negatives`` items drawn uniformly for the whole batch
(sampled softmax). In the sampled case a row's negatives are the uniform draws only, not
the other rows' targets: those are drawn by popularity, and letting them compete would push
popular items down (the in-batch negatives bias) where the full softmax does not. With
``canvas_candidates`` (the default) an example's target competes only with what its canvas
may return for the request (its category's items, none the user saw, not the source), as
it is ranked at serving time; otherwise a category request competes with its category's.
The batch loss is the per-canvas mean loss averaged with the canvases' weights (default 1
each), so a canvas with fewer examples is not drowned out. During training a known user
is replaced by the unknown-user row with probability ``user_dropout``, which is
what teaches the model its cold-start answer. The learning rate decays over all of
``epochs``' steps (``lr_decay``); a caller may stop after any epoch (``after_epoch``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from reelgraph.core import InvalidInput
from reelgraph.recsys.batch import Featurizer, ItemInputs, RequestInputs
from reelgraph.recsys.calibration import calibrate, returnable
from reelgraph.recsys.canvases import CANVASES, CATEGORY
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.model import UnifiedNet
from reelgraph.recsys.requests import TrainingExamples


@dataclass(frozen=True)
class TrainResult:
    losses: list[float]  # mean batch loss per epoch
    canvas_losses: list[dict[str, float]]  # mean per-canvas loss per epoch
    seconds: float


def decay(kind: str, progress: float) -> float:
    """The learning rate's multiplier ``progress`` (0..1) of the way through training."""
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    if kind == "linear":
        return max(1.0 - progress, 0.0)
    return 1.0


def _drop_users(r: RequestInputs, rate: float, generator: torch.Generator) -> RequestInputs:
    if rate <= 0:
        return r
    drop = torch.rand(len(r), generator=generator) < rate
    return RequestInputs(**{**r.__dict__, "user": torch.where(drop, 0, r.user)})


def batch_loss(net: UnifiedNet, r: RequestInputs, items: ItemInputs, target: torch.Tensor,
               config: TrainConfig, generator: torch.Generator,
               allowed: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted loss of one batch, and each canvas's mean loss in it. ``allowed``
    (B, items): the items each row's softmax may hold (``returnable``); default: a
    category row's category."""
    n_items = net.config.n_items
    columns = None
    labels = target
    if 0 < config.negatives < n_items:
        sampled = torch.randint(n_items, (config.negatives,), generator=generator)
        columns = torch.unique(torch.cat([target, sampled]))
        labels = torch.searchsorted(columns, target)
        negative = torch.isin(columns, sampled).unsqueeze(0)
        own = columns.unsqueeze(0) == target.unsqueeze(1)
        logits = net(r, items, columns).masked_fill(~(negative | own), float("-inf"))
    else:
        logits = net(r, items)
    if allowed is not None:
        logits = logits.masked_fill(~(allowed if columns is None else allowed[:, columns]),
                                    float("-inf"))
    in_category = r.has_category & (r.canvas == CATEGORY.index)
    if allowed is None and bool(in_category.any()):
        allowed = items.category_matrix[r.category]
        if columns is not None:
            allowed = allowed[:, columns]
        logits = logits.masked_fill(~(allowed | ~in_category.unsqueeze(1)), float("-inf"))
    losses = F.cross_entropy(logits, labels, reduction="none")
    total = torch.zeros(())
    weights = 0.0
    per_canvas: dict[str, float] = {}
    for canvas in CANVASES:
        rows = r.canvas == canvas.index
        if bool(rows.any()):
            mean = losses[rows].mean()
            total = total + config.weight(canvas.name) * mean
            weights += config.weight(canvas.name)
            per_canvas[canvas.name] = float(mean.detach())
    return total / max(weights, 1e-12), per_canvas


def train(net: UnifiedNet, examples: TrainingExamples, featurize: Featurizer,
          items: ItemInputs, config: TrainConfig,
          after_epoch: Callable[[int], bool] | None = None) -> TrainResult:
    """Fit ``net`` in place on ``examples``. ``after_epoch(epoch)`` (1-based) is called
    after each epoch with ``net`` in eval mode (e.g. to validate it); training stops early
    when it returns True (the learning-rate schedule is still that of ``config.epochs``).
    With ``config.calibrate`` a calibration pass comes first, then ``after_epoch(0)``."""
    if len(examples) == 0:
        raise InvalidInput("there are no training examples",
                           "check the dataset and the time split: the canvases found no "
                           "example before the cut-off")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    started = time.perf_counter()
    if config.calibrate:
        calibrate(net, examples, featurize, items, config)
        if after_epoch is not None and after_epoch(0):
            return TrainResult([], [], time.perf_counter() - started)
    trust = net.trust_parameters()
    rest = [p for p in net.parameters() if all(p is not t for t in trust)]
    groups: list[dict[str, Any]] = [
        {"params": rest},
        {"params": trust, "lr": config.lr * config.trust_lr_scale, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * -(-len(examples) // config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: decay(config.lr_decay, step / max(steps, 1)))
    losses: list[float] = []
    canvas_losses: list[dict[str, float]] = []
    for number in range(1, config.epochs + 1):
        net.train()
        order = rng.permutation(len(examples))
        epoch: list[float] = []
        sums: dict[str, list[float]] = {}
        for first in range(0, len(order), config.batch_size):
            batch = examples.take(order[first: first + config.batch_size])
            r = _drop_users(featurize(batch.requests), config.user_dropout, generator)
            target = torch.from_numpy(batch.target.astype(np.int64))
            allowed = returnable(batch, featurize, items) if config.canvas_candidates \
                else None
            loss, per_canvas = batch_loss(net, r, items, target, config, generator, allowed)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            schedule.step()
            epoch.append(float(loss.detach()))
            for name, value in per_canvas.items():
                sums.setdefault(name, []).append(value)
        losses.append(float(np.mean(epoch)))
        canvas_losses.append({name: float(np.mean(v)) for name, v in sums.items()})
        net.eval()
        if after_epoch is not None and after_epoch(number):
            break
    net.eval()
    return TrainResult(losses, canvas_losses, time.perf_counter() - started)
