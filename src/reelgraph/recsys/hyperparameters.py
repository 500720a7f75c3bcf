"""How the network is trained: the one place its training defaults are written.

Kept apart from ``training`` so that configuring a run does not import PyTorch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 4  # at most, with ExperimentConfig.validation (it picks the best)
    batch_size: int = 1024
    lr: float = 1e-2
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    negatives: int = 2048  # N uniform negatives per batch; 0 (or >= items): every item
    user_dropout: float = 0.1
    canvas_weights: Mapping[str, float] = field(default_factory=dict)  # default 1.0
    seed: int = 0
    # "cosine" or "linear" over all of training's ``epochs``, or "constant": a decayed rate
    # settles the model (at 1e-2 constant, category NDCG swung +-30% between epochs)
    lr_decay: str = "cosine"
    # the fixed blocks' per-canvas weights (UnifiedNet.trust_parameters) learn this many
    # times faster: at lr 1e-2 they would move ~1 in an epoch, not enough to find their scale
    trust_lr_scale: float = 1.0
    # before epoch 1, fit only those per-canvas weights to convergence, each canvas on its
    # own examples (``recsys.calibration``; the towers stay as they start: at zero with
    # ``residual``), "epoch 0": the fixed blocks, well weighed
    calibrate: bool = False
    # each training example's softmax holds only what its canvas may return (not what the
    # user saw, not the source), as calibration's does; False: every item (a category
    # row: its category's)
    canvas_candidates: bool = True
    calibration_examples: int = 2048  # per canvas, a seeded sample (memory: x items x 9)
    # which examples: "random" (seeded, over the whole training period) or "recent" (the
    # last ones before the cut-off: nearest the period a model serves)
    calibration_sample: str = "random"
    calibration_steps: int = 100  # L-BFGS iterations at most (it stops on convergence)

    def weight(self, canvas: str) -> float:
        return float(self.canvas_weights.get(canvas, 1.0))
