"""Validation keeps the learned part of the score only on the canvases training improves;
the others rank by their calibrated fixed blocks, as at epoch 0, in the same network."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from recsys_samples import SMALL_CONFIG

from reelgraph.recsys.experiment import Prepared, _fit, gated_epoch

CONFIG = replace(SMALL_CONFIG, validation=0.0, fresh_popularity=True, residual=True,
                 gated_residual=True, train=replace(SMALL_CONFIG.train, calibrate=True,
                                                    epochs=1))
ALL = ("related", "category", "search", "notifications")


def test_a_canvas_keeps_training_only_where_validation_saw_it_gain() -> None:
    rng = np.random.default_rng(0)
    related, search = rng.random(400), rng.random(400)
    noise = rng.normal(0, 0.2, 400)
    noise -= noise.mean()  # so the mean gain is exactly the 0.002 added
    epochs = [{"related": related, "search": search},
              {"related": related - 0.01, "search": search + 0.05},
              {"related": related - 0.02, "search": search + 0.08}]
    assert gated_epoch(epochs) == (2, ("search",))
    # training earns nothing anywhere: no epoch, no learned part
    assert gated_epoch([epochs[0], {"related": related - 0.01, "search": search}]
                       ) == (0, ())
    # a gain within the noise of which requests were drawn is no gain
    small = {"related": related + 0.002 + noise, "search": search + 0.05}
    assert np.mean(small["related"]) > np.mean(related)
    assert gated_epoch([epochs[0], small]) == (1, ("search",))
    assert gated_epoch([epochs[0], {"related": related + 0.05, "search": search + 0.05}]
                       ) == (1, ("related", "search"))


def test_shut_canvases_rank_as_the_calibrated_network(prepared: Prepared) -> None:
    unvalidated = replace(prepared, validation=None)
    calibrated = _fit(unvalidated, CONFIG, ALL, lambda _: False, stop=0)
    trained = _fit(unvalidated, CONFIG, ALL, lambda _: False, stop=1, trained=("search",))
    assert len(trained.losses) == 1 and trained.residual_canvases == ("search",)
    for canvas in ALL:
        requests = prepared.tasks.by_canvas[canvas].test.requests.take(np.arange(6))
        before = calibrated.recommender.scorer.scores(requests)
        after = trained.recommender.scorer.scores(requests)
        if canvas == "search":  # trained: its learned part is on and moved
            assert not np.allclose(before, after, atol=1e-3)
        else:
            np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)
    recommender = trained.recommender
    for request in (recommender.request("notifications",
                                        user=recommender.vocabulary.user_ids[0]),
                    recommender.request("search", query="toy story")):
        served = recommender.item_vectors() @ recommender.request_vector(request)
        ranked = recommender.scorer.scores(request.requests)[0]
        np.testing.assert_allclose(served, ranked, rtol=1e-4, atol=1e-4)
