"""The demo's real model: PureSVD (Cremonesi et al., RecSys 2010) against a popularity
baseline on MovieLens ml-latest-small, as a flow on the paved road.

Evaluation is time-based: every interaction after the global ``cutoff_quantile`` of
timestamps is test data; a test user is one with history before the cutoff and activity
after it. Ranking is over all items, excluding what the user saw before the cutoff.
Recall@K is hits / min(K, |test items|) (so a perfect list scores 1); NDCG@10 uses binary
relevance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reelgraph.flows import Flow

RATINGS = "rg://dataset/movielens/ml-latest-small/ratings.csv"

training = Flow(
    "train-puresvd",
    namespace="personalization",
    params={"ratings_csv": "", "factors": 48, "cutoff_quantile": 0.9},
    description="PureSVD recommender and a popularity baseline, evaluated on a time split",
    owner="personalization",
)


@training.step(reads=[RATINGS])
def interactions(ratings_csv: str) -> dict[str, Any]:
    data = np.loadtxt(ratings_csv, delimiter=",", skiprows=1)
    return {"user": data[:, 0].astype(np.int64), "item": data[:, 1].astype(np.int64),
            "time": data[:, 3].astype(np.int64)}


@training.step
def split(interactions: dict[str, Any], cutoff_quantile: float) -> dict[str, Any]:
    users, users_index = np.unique(interactions["user"], return_inverse=True)
    items, items_index = np.unique(interactions["item"], return_inverse=True)
    cutoff = float(np.quantile(interactions["time"], cutoff_quantile))
    is_test = interactions["time"] > cutoff
    train = np.zeros((len(users), len(items)), dtype=np.float32)
    train[users_index[~is_test], items_index[~is_test]] = 1.0
    test: dict[int, list[int]] = {}
    for u, i in zip(users_index[is_test], items_index[is_test], strict=True):
        if train[u].any():
            test.setdefault(int(u), []).append(int(i))
    return {"train": train, "test": test, "items": items, "cutoff": cutoff}


@training.step
def popularity(split: dict[str, Any]) -> np.ndarray:
    return np.asarray(split["train"].sum(axis=0))


@training.step
def puresvd(split: dict[str, Any], factors: int) -> dict[str, Any]:
    _, _, vt = np.linalg.svd(split["train"], full_matrices=False)
    return {"item_factors": vt[:factors].T.copy(), "items": split["items"]}


def _metrics(scores: np.ndarray, split: dict[str, Any]) -> dict[str, float]:
    recall10, recall20, ndcg10 = [], [], []
    discounts = 1.0 / np.log2(np.arange(2, 12))
    for user, relevant in split["test"].items():
        ranked = np.where(split["train"][user] > 0, -np.inf, scores[user])
        top = np.argsort(-ranked)[:20]
        hits = np.isin(top, relevant)
        recall10.append(hits[:10].sum() / min(10, len(set(relevant))))
        recall20.append(hits.sum() / min(20, len(set(relevant))))
        ideal = discounts[: min(10, len(set(relevant)))].sum()
        ndcg10.append(float((hits[:10] * discounts).sum() / ideal))
    return {"recall@10": float(np.mean(recall10)), "recall@20": float(np.mean(recall20)),
            "ndcg@10": float(np.mean(ndcg10)), "test_users": float(len(recall10))}


@training.step
def evaluation(split: dict[str, Any], popularity: np.ndarray,
               puresvd: dict[str, Any]) -> dict[str, dict[str, float]]:
    train = split["train"]
    item_factors = puresvd["item_factors"]
    svd_scores = (train @ item_factors) @ item_factors.T
    pop_scores = np.broadcast_to(popularity, train.shape)
    return {"puresvd": _metrics(svd_scores, split), "popularity": _metrics(pop_scores, split)}
