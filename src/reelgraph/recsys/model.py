"""The unified model: one engagement score for any canvas's request and any item.

In the spirit of Netflix's UniCoRn (RecSys 2024): every canvas's request goes through the
same encoders, and the canvas itself is an input.

- item tower (shared): item id, categories, tags, title character n-grams (and optionally a
  precomputed title vector and the item's popularity as of the cut-off) -> one vector per
  item;
- request tower: canvas embedding; user (id embedding + the mean item-tower vector of their
  recent history); source item (through the item tower); query (the same n-gram encoder as
  titles); category (the same embedding the item tower uses); canvas-specific context
  features. Whatever a request lacks is replaced by a learned default: one vector per
  missing input, one value per missing context feature;
- score(request, item) = request_vector . item_vector + item_bias
  + text_weight[canvas] * cos(query n-grams, title n-grams) (only for requests with a query;
  with ``text_dim``, in an n-gram table of its own, wider than the towers')
  + prior_weight[canvas] * EASE's factored score (``recsys.prior``; with ``prior_rank``):
  the network learns the residual of a strong item-item model
  + lexical_weight[canvas] * the fixed TF-IDF cosine of query and title (``recsys.lexical``;
  with ``lexical_dim``)
  + popularity_weight[canvas] . the item's popularity features (with ``fixed_popularity``:
  e.g. a category row can lean on what is popular lately, as recent popularity does).
  + fresh_weight[canvas] . the item's popularity as of the request's own time (with
  ``fresh_popularity``; ``recsys.freshness``: counts over the last 7, 30, 365 days and all
  time, so neither a training example nor a test request sees a popularity from its future
  or a stale one). Serving puts it in the inner product as one more item block, computed
  at the model's now whenever the item vectors are (re)built.

With ``residual`` the request tower's last layer starts at zero, so the untrained network
ranks by those fixed blocks alone (EASE, the lexical match, popularity) and training learns
a correction; their per-canvas weights are the ``trust_parameters`` (training may give them
a larger learning rate so they find their scale within an epoch, and a calibration pass may
fit them alone first: ``TrainConfig.calibrate``).

The score is one inner product, so every item can be ranked at once (and put in an
approximate nearest-neighbour index for serving).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reelgraph.recsys.batch import Bag, ItemInputs, RequestInputs, mean_of
from reelgraph.recsys.canvases import CANVASES, DENSE_FEATURES
from reelgraph.recsys.freshness import WINDOWS_DAYS
from reelgraph.recsys.lexical import fold, idf
from reelgraph.recsys.ragged import Ragged

INITIAL_TEXT_WEIGHT = 4.0
INITIAL_PRIOR_WEIGHT = 1.0
INITIAL_LEXICAL_WEIGHT = 8.0


@dataclass(frozen=True)
class ModelConfig:
    n_items: int
    n_users: int
    n_categories: int
    n_tags: int
    dim: int
    buckets: int  # n-gram hash buckets (TextEncoder)
    history: int  # most recent history items per user
    vector_dim: int = 0  # size of precomputed item vectors, 0 for none
    popularity_dim: int = 0  # popularity features per item (items.popularity), 0 for none
    text_dim: int = 0  # the query-title match's own n-gram table; 0: share ``grams`` (dim)
    prior_rank: int = 0  # the EASE prior's factors (buffers, set by ``set_prior``); 0: none
    lexical_dim: int = 0  # columns of the fixed TF-IDF match (``recsys.lexical``); 0: none
    fixed_popularity: bool = False  # a per-canvas weighted popularity block
    residual: bool = False  # the towers start at zero: the fixed blocks rank at first
    fresh_popularity: bool = False  # a per-canvas weighted popularity as of each request
    initial_prior_weight: float = INITIAL_PRIOR_WEIGHT
    # a second EASE prior term over only the user's latest ``recent_history`` items, with
    # its own per-canvas weight (0: none): what a member watched last says more about what
    # comes next than the mean of their whole history does
    recent_history: int = 0
    # a per-canvas switch (buffer ``residual_gate``, 1 or 0) on the learned part of the
    # score (request tower and item bias): validation turns it off for a canvas that
    # training does not improve, which then ranks by its calibrated fixed blocks alone
    gated_residual: bool = False
    n_canvases: int = len(CANVASES)
    n_dense: int = len(DENSE_FEATURES)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mlp(width_in: int, dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width_in, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))


def latest_of(history: Bag, k: int) -> Bag:
    """The last ``k`` items of each row of a history bag (rows in time order, as
    ``Bag.of`` lays them out), averaged."""
    rows, values, _ = history.triples
    counts = np.bincount(rows, minlength=history.shape[0])
    from_end = np.cumsum(counts)[rows] - np.arange(len(rows))  # 1: the row's last item
    keep = from_end <= k
    kept = rows[keep]
    return Bag(kept, values[keep], 1.0 / np.minimum(counts, k)[kept], history.shape)


def _fill(has: torch.Tensor, value: torch.Tensor, default: torch.Tensor) -> torch.Tensor:
    return torch.where(has.unsqueeze(1), value, default.unsqueeze(0))


class UnifiedNet(nn.Module):
    prior_left: torch.Tensor  # buffers (items, prior_rank), with ``prior_rank`` only
    prior_right: torch.Tensor
    lexical_idf: torch.Tensor  # buffer (buckets,), with ``lexical_dim`` only (``set_lexical``)
    lexical_column: torch.Tensor  # not stored: a pure function of (buckets, lexical_dim)
    lexical_sign: torch.Tensor
    residual_gate: torch.Tensor  # buffer (canvases,), with ``gated_residual`` only

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.dim
        self.item_id = nn.Embedding(config.n_items, d)
        self.category = nn.Embedding(max(config.n_categories, 1), d)
        self.tag = nn.Embedding(max(config.n_tags, 1), d)
        self.grams = nn.Embedding(config.buckets, d)  # n-grams of titles and of queries
        # The query-title match gets its own, wider n-gram table: the cosine of two means of
        # random d-dimensional vectors measures n-gram overlap with noise ~1/sqrt(d), too
        # coarse at d=32 to tell close titles apart; the towers keep the small ``grams``.
        self.match = nn.Embedding(config.buckets, config.text_dim) if config.text_dim else None
        self.vector = nn.Linear(config.vector_dim, d) if config.vector_dim else None
        self.item_tower = _mlp((5 if config.vector_dim else 4) * d + config.popularity_dim, d)
        # popularity also gets a linear path past the MLP: a request can then weigh it
        # directly (e.g. notifications more than related) without the MLP's nonlinearity
        self.popularity = nn.Linear(config.popularity_dim, d) if config.popularity_dim else None
        self.item_bias = nn.Parameter(torch.zeros(config.n_items))
        self.user = nn.Embedding(config.n_users + 1, d)  # row 0: a user the model lacks
        self.canvas = nn.Embedding(config.n_canvases, d)
        self.no_user = nn.Parameter(torch.zeros(d))
        self.no_history = nn.Parameter(torch.zeros(d))
        self.no_source = nn.Parameter(torch.zeros(d))
        self.no_query = nn.Parameter(torch.zeros(d))
        self.no_category = nn.Parameter(torch.zeros(d))
        self.dense_default = nn.Parameter(torch.zeros(config.n_dense))
        self.dense = nn.Linear(config.n_dense, d)
        self.request_tower = _mlp(6 * d, d)
        self.text_weight = nn.Parameter(torch.full((config.n_canvases,), INITIAL_TEXT_WEIGHT))
        if config.prior_rank:
            self.prior_weight = nn.Parameter(
                torch.full((config.n_canvases,), config.initial_prior_weight))
            if config.recent_history:
                self.recent_prior_weight = nn.Parameter(torch.zeros(config.n_canvases))
            self.register_buffer("prior_left", torch.zeros(config.n_items, config.prior_rank))
            self.register_buffer("prior_right", torch.zeros(config.n_items, config.prior_rank))
        if config.gated_residual:
            self.register_buffer("residual_gate", torch.ones(config.n_canvases))
        if config.lexical_dim:
            self.lexical_weight = nn.Parameter(
                torch.full((config.n_canvases,), INITIAL_LEXICAL_WEIGHT))
            self.register_buffer("lexical_idf", torch.ones(config.buckets))
            column, sign = fold(config.buckets, config.lexical_dim)
            self.register_buffer("lexical_column", torch.from_numpy(column), persistent=False)
            self.register_buffer("lexical_sign", torch.from_numpy(sign), persistent=False)
        if self.fixed_popularity:
            self.popularity_weight = nn.Parameter(
                torch.zeros(config.n_canvases, config.popularity_dim))
        if config.fresh_popularity:
            self.fresh_weight = nn.Parameter(torch.zeros(config.n_canvases, len(WINDOWS_DAYS)))
        for table in (self.item_id, self.user, self.canvas):
            nn.init.normal_(table.weight, std=0.05)
        for table in (self.category, self.tag, self.grams):
            nn.init.normal_(table.weight, std=0.1)
        if self.match is not None:
            nn.init.normal_(self.match.weight, std=0.1)
        if config.residual:
            last = self.request_tower[-1]
            assert isinstance(last, nn.Linear)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    @property
    def fixed_popularity(self) -> bool:
        return self.config.fixed_popularity and self.config.popularity_dim > 0

    def trust_parameters(self) -> list[nn.Parameter]:
        """The per-canvas weights of the fixed blocks (text, prior, lexical, popularity)."""
        names = ("text_weight", "prior_weight", "lexical_weight", "popularity_weight",
                 "fresh_weight", "recent_prior_weight")
        return [p for name, p in self.named_parameters() if name in names]

    @torch.no_grad()
    def shut_residual(self, canvases: list[int], calibrated: dict[str, torch.Tensor]) -> None:
        """``canvases`` rank by their fixed blocks alone again: the learned part gated off,
        their per-canvas weights back to ``calibrated`` (name -> the weights at epoch 0)."""
        for name, p in self.named_parameters():
            if name in calibrated:
                p[canvases] = calibrated[name][canvases]
        self.residual_gate[canvases] = 0.0

    def set_lexical(self, titles: Ragged) -> None:
        """The IDF of the lexical match, over the catalog's title buckets."""
        self.lexical_idf.copy_(torch.from_numpy(idf(titles, self.config.buckets)))

    def lexical(self, texts: Bag) -> torch.Tensor:
        """(texts, lexical_dim): unit folded TF-IDF vectors (``recsys.lexical``), fixed."""
        rows, buckets, _ = texts.triples
        at = torch.from_numpy(np.asarray(buckets, dtype=np.int64))
        out = torch.zeros(texts.shape[0], self.config.lexical_dim)
        out.index_put_((torch.from_numpy(np.asarray(rows, dtype=np.int64)),
                        self.lexical_column[at]),
                       self.lexical_sign[at] * self.lexical_idf[at], accumulate=True)
        return F.normalize(out, dim=1)

    def set_prior(self, left: np.ndarray, right: np.ndarray) -> None:
        """The EASE factors (``recsys.prior.ease_factors``) this network corrects."""
        self.prior_left.copy_(torch.from_numpy(left))
        self.prior_right.copy_(torch.from_numpy(right))

    def items(self, x: ItemInputs) -> tuple[torch.Tensor, torch.Tensor]:
        """(item vectors, fixed item blocks), one row per item: the fixed blocks are the
        unit title n-gram vector, then the popularity and lexical blocks if configured."""
        title = mean_of(x.title, self.grams.weight)
        parts = [self.item_id.weight, mean_of(x.categories, self.category.weight),
                 mean_of(x.tags, self.tag.weight), title]
        if self.vector is not None and x.vectors is not None:
            parts.append(self.vector(x.vectors))
        linear = torch.zeros(())
        if self.popularity is not None and x.popularity is not None:
            parts.append(x.popularity)
            linear = self.popularity(x.popularity)
        match = title if self.match is None else mean_of(x.title, self.match.weight)
        fixed = [F.normalize(match, dim=1)]
        if self.fixed_popularity and x.popularity is not None:
            fixed.append(x.popularity)
        if self.config.lexical_dim:
            with torch.no_grad():
                fixed.append(self.lexical(x.title))
        return self.item_tower(torch.cat(parts, dim=1)) + linear, torch.cat(fixed, dim=1)

    def requests(self, r: RequestInputs, item_vectors: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(request vectors, unit query n-gram vectors, text weights) for a batch."""
        history = mean_of(r.history, item_vectors)
        user = self.user(r.user) + _fill(r.has_history, history, self.no_history)
        query = mean_of(r.query, self.grams.weight)
        dense = torch.where(r.dense_mask, r.dense, self.dense_default.unsqueeze(0))
        parts = [
            self.canvas(r.canvas),
            _fill(r.has_user, user, self.no_user),
            _fill(r.has_source, item_vectors[r.source], self.no_source),
            _fill(r.has_query, query, self.no_query),
            _fill(r.has_category, self.category.weight[r.category], self.no_category),
            self.dense(dense),
        ]
        weight = self.text_weight[r.canvas] * r.has_query.float()
        match = query if self.match is None else mean_of(r.query, self.match.weight)
        return self.request_tower(torch.cat(parts, dim=1)), F.normalize(match, dim=1), weight

    def forward(self, r: RequestInputs, x: ItemInputs, columns: torch.Tensor | None = None
                ) -> torch.Tensor:
        """Scores (B, items), or (B, len(columns)) for the items ``columns`` only."""
        item_vectors, titles = self.items(x)
        return self.score(r, item_vectors, titles, columns)

    def score(self, r: RequestInputs, item_vectors: torch.Tensor, titles: torch.Tensor,
              columns: torch.Tensor | None = None) -> torch.Tensor:
        """``request_side @ item_side.T``; the wide lexical block's product is taken apart
        (without a gradient: it is fixed; only its per-canvas weight learns), and so is
        the popularity as of each request's own time (``fresh_popularity``)."""
        wide = self.config.lexical_dim  # the lexical block ends ``titles`` (``items``)
        core = self.item_side(item_vectors, titles[:, :titles.shape[1] - wide])
        lexical = titles[:, titles.shape[1] - wide:]
        if columns is not None:
            core, lexical = core[columns], lexical[columns]
        left = self.request_side(r, item_vectors, lexical=False)
        scores = left @ core.T + self.fresh_scores(r, columns)
        if wide and bool(r.has_query.any()):  # only a query has a lexical match
            with torch.no_grad():
                match = self.lexical(r.query) @ lexical.T
            weight = self.lexical_weight[r.canvas] * r.has_query.float()
            scores = scores + weight.unsqueeze(1) * match
        return scores

    def fresh_scores(self, r: RequestInputs, columns: torch.Tensor | None
                      ) -> torch.Tensor | float:
        """(B, items or columns): the weighted popularity of each item as of each request
        (0 without ``fresh_popularity``)."""
        popularity = r.popularity(columns) if self.config.fresh_popularity else None
        if popularity is None:
            return 0.0
        return torch.einsum("bf,bif->bi", self.fresh_weight[r.canvas], popularity)

    def request_side(self, r: RequestInputs, item_vectors: torch.Tensor,
                     lexical: bool = True, fresh: bool = False) -> torch.Tensor:
        """(B, width): a score is this row's inner product with ``item_side``'s row, so a
        nearest-neighbour index over ``item_side`` ranks items for a request. Blocks:
        [request, text match, popularity, lexical, EASE prior, 1, with ``fresh`` the
        fresh popularity weights]; with ``gated_residual`` the request block and the 1 are
        times the canvas's gate; ``lexical=False`` leaves the lexical block out."""
        request, query, weight = self.requests(r, item_vectors)
        gate = torch.ones(len(request), 1)
        if self.config.gated_residual:
            gate = self.residual_gate[r.canvas].unsqueeze(1)
        parts = [gate * request, weight.unsqueeze(1) * query]
        if self.fixed_popularity:
            parts.append(self.popularity_weight[r.canvas])
        if self.config.lexical_dim and lexical:
            lexical_weight = self.lexical_weight[r.canvas] * r.has_query.float()
            parts.append(lexical_weight.unsqueeze(1) * self.lexical(r.query))
        if self.config.prior_rank:
            left = self.prior_left
            prior = (torch.where(r.has_history.unsqueeze(1), mean_of(r.history, left), 0.0)
                     + torch.where(r.has_source.unsqueeze(1), left[r.source], 0.0))
            prior = self.prior_weight[r.canvas].unsqueeze(1) * prior
            if self.config.recent_history:
                latest = mean_of(latest_of(r.history, self.config.recent_history), left)
                prior = prior + self.recent_prior_weight[r.canvas].unsqueeze(1) * latest
            parts.append(prior)
        parts.append(gate)  # times the item bias
        if fresh and self.config.fresh_popularity:
            parts.append(self.fresh_weight[r.canvas])
        return torch.cat(parts, dim=1)

    def item_side(self, item_vectors: torch.Tensor, titles: torch.Tensor,
                  popularity: torch.Tensor | None = None) -> torch.Tensor:
        """(items, width): [item vector, fixed blocks (unit title n-grams, popularity,
        lexical), EASE factors, bias, and the popularity ``RecentCounts`` gives at one
        time if ``popularity`` (items, windows) is given: the fresh block]."""
        prior = [self.prior_right] if self.config.prior_rank else []
        fresh = [popularity] if popularity is not None and self.config.fresh_popularity else []
        return torch.cat([item_vectors, titles, *prior, self.item_bias.unsqueeze(1), *fresh],
                         dim=1)

    def size(self) -> int:
        """Learned parameters (the EASE factors are fitted, not learned: not counted)."""
        return sum(p.numel() for p in self.parameters())
