"""Fit the fixed blocks' per-canvas weights to convergence, one canvas at a time.

With the towers frozen, a request's score of an item is ``base + features . w``: each fixed
block (EASE prior, title n-gram match, lexical TF-IDF match, popularity, popularity as of the
request) enters the score through one per-canvas weight (``UnifiedNet.trust_parameters``),
linearly. So each canvas's weights ``w`` (7-9 numbers) can be fitted alone, on that canvas's
own examples, by full-batch L-BFGS on the cross-entropy of a softmax over the items the
canvas may return for the request (``candidates.allowed``: its category's, none the user
saw, not the source; as it ranks when serving and in evaluation), convex in ``w``:
the same answer whether the other canvases trained beside it or not, so the unified model at
epoch 0 is exactly its single-task twins at epoch 0. Earlier, one pass of Adam over shared
mini-batches (a quarter of each batch per canvas, ~100 noisy steps) did not converge.

The features are read off the network itself (each weight set to 1, the others to 0), so
any block added later is calibrated without code here; ``examples`` per canvas is a seeded
sample (``TrainConfig.calibration_examples``) that bounds the memory:
examples x items x weights floats.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from reelgraph.recsys.batch import Featurizer, ItemInputs, RequestInputs
from reelgraph.recsys.candidates import allowed
from reelgraph.recsys.canvases import CANVASES, Canvas
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.model import UnifiedNet
from reelgraph.recsys.requests import TrainingExamples

CHUNK = 256  # requests per forward pass while reading the features off


def returnable(examples: TrainingExamples, featurize: Featurizer, items: ItemInputs
               ) -> torch.Tensor:
    """bool (examples, items): what each example's canvas may return for its request
    (``candidates.allowed``: the category's items, none the user saw, not the source), and
    its target."""
    mask = torch.from_numpy(allowed(examples.requests, featurize.timeline,
                                    items.category_matrix.numpy(),
                                    items.category_matrix.shape[1]))
    mask[torch.arange(len(examples)), torch.from_numpy(examples.target.astype(np.int64))] = True
    return mask


def canvas_weights(net: UnifiedNet, canvas: Canvas) -> list[tuple[torch.nn.Parameter, int]]:
    """(parameter, flat index) of every per-canvas weight ``canvas`` has."""
    found = []
    for p in net.trust_parameters():
        row = p.data[canvas.index]
        first = canvas.index * row.numel()
        found += [(p, first + j) for j in range(row.numel())]
    return found


@contextmanager
def _weights_at(weights: list[tuple[torch.nn.Parameter, int]], values: torch.Tensor
                ) -> Iterator[None]:
    """The weights set to ``values`` for the block, restored after it."""
    saved = [float(p.data.view(-1)[at]) for p, at in weights]
    try:
        for (p, at), value in zip(weights, values.tolist(), strict=True):
            p.data.view(-1)[at] = value
        yield
    finally:
        for (p, at), value in zip(weights, saved, strict=True):
            p.data.view(-1)[at] = value


@torch.no_grad()
def block_scores(net: UnifiedNet, r: RequestInputs, item_vectors: torch.Tensor,
                 titles: torch.Tensor, weights: list[tuple[torch.nn.Parameter, int]]
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(base (B, items), features (B, items, weights)): the score with every weight at 0,
    and what each weight multiplies (the score linear in each)."""
    zeros = torch.zeros(len(weights))
    with _weights_at(weights, zeros):
        base = net.score(r, item_vectors, titles)
    features = torch.empty(*base.shape, len(weights))
    for k in range(len(weights)):
        one = zeros.clone()
        one[k] = 1.0
        with _weights_at(weights, one):
            features[:, :, k] = net.score(r, item_vectors, titles) - base
    return base, features


def fit_weights(base: torch.Tensor, features: torch.Tensor, target: torch.Tensor,
                allowed: torch.Tensor | None, start: torch.Tensor, max_iter: int
                ) -> torch.Tensor:
    """The weights minimising the mean cross-entropy of ``target`` over each row's allowed
    items, by L-BFGS from ``start`` (a weight whose feature is 0 everywhere stays put)."""
    w = start.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([w], lr=1.0, max_iter=max_iter, tolerance_grad=1e-6,
                                  tolerance_change=1e-9, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        logits = base + features @ w
        if allowed is not None:
            logits = logits.masked_fill(~allowed, float("-inf"))
        value = F.cross_entropy(logits, target)
        value.backward()  # type: ignore[no-untyped-call]
        return value

    optimizer.step(loss)  # type: ignore[no-untyped-call]
    return w.detach()


def _sample(rows: np.ndarray, times: np.ndarray, config: TrainConfig, canvas: Canvas
            ) -> np.ndarray:
    """At most ``config.calibration_examples`` of ``rows``: a seeded sample, or the latest."""
    keep = config.calibration_examples
    if len(rows) <= keep:
        return rows
    if config.calibration_sample == "recent":
        return np.sort(rows[np.argsort(times, kind="stable")[-keep:]])
    rng = np.random.default_rng([config.seed, canvas.index])
    return np.sort(rng.choice(rows, keep, replace=False))


def calibrate(net: UnifiedNet, examples: TrainingExamples, featurize: Featurizer,
              items: ItemInputs, config: TrainConfig) -> dict[str, int]:
    """Fit each canvas's fixed-block weights on (a sample of) its own examples; returns how
    many examples each canvas used."""
    used: dict[str, int] = {}
    net.eval()
    with torch.no_grad():
        item_vectors, titles = net.items(items)
    canvas_of = examples.requests.canvas
    for canvas in CANVASES:
        rows = np.flatnonzero(canvas_of == canvas.index)
        weights = canvas_weights(net, canvas)
        if len(rows) == 0 or not weights:
            continue
        rows = _sample(rows, examples.requests.time[rows], config, canvas)
        sample = examples.take(rows)
        parts = [block_scores(net, featurize(sample.requests.take(chunk)), item_vectors,
                              titles, weights)
                 for chunk in np.array_split(np.arange(len(rows)),
                                             max(1, -(-len(rows) // CHUNK)))]
        base = torch.cat([b for b, _ in parts])
        features = torch.cat([f for _, f in parts])
        del parts
        target = torch.from_numpy(sample.target.astype(np.int64))
        allowed = returnable(sample, featurize, items)
        start = torch.tensor([float(p.data.view(-1)[at]) for p, at in weights])
        fitted = fit_weights(base, features, target, allowed, start, config.calibration_steps)
        for (p, at), value in zip(weights, fitted.tolist(), strict=True):
            p.data.view(-1)[at] = value
        used[canvas.name] = len(rows)
    return used
