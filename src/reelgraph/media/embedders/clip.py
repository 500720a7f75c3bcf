"""The optional CLIP embedder: semantic image vectors from OpenCLIP, with local weights only.

This module is the only place that touches ``open_clip`` (and, through it, ``torch``); both
are imported when a ``ClipEmbedder`` is built, never when reelgraph is imported. Nothing is
downloaded: the weights file is, in order of precedence,

1. the ``weights`` argument,
2. the ``REELGRAPH_CLIP_WEIGHTS`` environment variable,
3. ``<home>/models/clip/<model_name>.pt`` under the home of the ``settings`` it is given
   (the workspace's: ``ClipEmbedder(settings=ws.settings)``); it never loads settings itself.

The file is anything ``open_clip.create_model_and_transforms(model_name, pretrained=PATH)``
loads, e.g. a saved ``state_dict``. Without ``open_clip`` or the file, building the embedder
raises ``EmbedderUnavailable`` with the exact steps to provide them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput, Settings, home_folder
from reelgraph.media.embedders.ports import (
    EmbedderUnavailable,
    Frames,
    Vectors,
    check_frames,
    normalize_rows,
)

WEIGHTS_ENV = "REELGRAPH_CLIP_WEIGHTS"
DEFAULT_MODEL = "ViT-B-32"
# A pretrained tag whose architecture is exactly DEFAULT_MODEL (the "openai" tag needs the
# "-quickgelu" variant), used in the instructions for saving weights.
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
_FINGERPRINT_BYTES = 1 << 20


def default_weights_path(model_name: str = DEFAULT_MODEL,
                         settings: Settings | None = None) -> Path:
    """Where the weights are looked for when neither an argument nor the env var names them:
    under the home of ``settings`` (``InvalidInput`` without settings)."""
    return home_folder(settings, "models", "clip") / f"{model_name}.pt"


def _weights_path(weights: Path | str | None, model_name: str,
                  settings: Settings | None) -> Path:
    if weights is not None:
        return Path(weights).expanduser()
    from_env = os.environ.get(WEIGHTS_ENV)
    if from_env:
        return Path(from_env).expanduser()
    if settings is None:
        raise InvalidInput(
            "the 'clip' embedder was given no weights file and no settings to find one",
            f"pass weights=PATH, or settings=ws.settings (it reads "
            f"<home>/models/clip/{model_name}.pt), or set {WEIGHTS_ENV}=PATH")
    return default_weights_path(model_name, settings)


def _how_to_provide(model_name: str, target: Path) -> str:
    save = (
        f"python -c \"import open_clip, torch; m, _, _ = open_clip.create_model_and_transforms("
        f"'{model_name}', pretrained='{DEFAULT_PRETRAINED}'); torch.save(m.state_dict(), "
        f"'{model_name}.pt')\""
    )
    return (
        f"pip install open_clip_torch; then put the {model_name} weights at {target} or set "
        f"{WEIGHTS_ENV}=/path/to/weights.pt (to make the file on a machine with internet "
        f"access: {save}); or use the 'framing' or 'motion' embedder, which need no weights"
    )


def _fingerprint(path: Path) -> str:
    """A cheap content fingerprint: size plus the first and last MiB (not the whole file)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(_FINGERPRINT_BYTES))
        if size > _FINGERPRINT_BYTES:
            handle.seek(max(_FINGERPRINT_BYTES, size - _FINGERPRINT_BYTES))
            digest.update(handle.read())
    return digest.hexdigest()[:12]


class ClipEmbedder:
    """OpenCLIP image embeddings from a local weights file (see the module docstring)."""

    name = "clip"
    version: str  # the model name and a fingerprint of the weights file
    dim: int

    def __init__(self, weights: Path | str | None = None, *, model_name: str = DEFAULT_MODEL,
                 device: str = "cpu", batch_size: int = 32,
                 settings: Settings | None = None) -> None:
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, got {batch_size}",
                               "pass batch_size >= 1")
        path = _weights_path(weights, model_name, settings)
        try:
            import open_clip
        except ImportError:
            missing = "the Python package 'open_clip_torch' is not installed"
            if not path.is_file():
                missing += f" and there is no weights file at {path}"
            raise EmbedderUnavailable(
                f"the 'clip' embedder is unavailable: {missing}",
                _how_to_provide(model_name, path),
            ) from None
        if not path.is_file():
            raise EmbedderUnavailable(
                f"the 'clip' embedder is unavailable: no {model_name} weights file at {path}",
                _how_to_provide(model_name, path),
            )
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                model_name, pretrained=str(path), device=device
            )
        except Exception as exc:  # open_clip raises many kinds for a bad file or name
            raise EmbedderUnavailable(
                f"could not load the {model_name} CLIP weights from {path}: {exc}",
                f"check that the file holds {model_name} weights (a state_dict that "
                f"open_clip.create_model_and_transforms('{model_name}', pretrained=PATH) "
                f"loads), or delete it and follow: {_how_to_provide(model_name, path)}",
            ) from exc
        model.eval()
        self._model: Any = model
        self._preprocess: Any = preprocess
        self._device = device
        self._batch_size = batch_size
        self.weights = path
        self.model_name = model_name
        self.version = f"{model_name}-{_fingerprint(path)}"
        output_dim = getattr(getattr(model, "visual", None), "output_dim", None)
        if isinstance(output_dim, int):
            self.dim = output_dim
        else:  # some towers do not say; ask the model once
            self.dim = int(self._encode([np.zeros((224, 224, 3), dtype=np.uint8)]).shape[1])

    def embed(self, frames: Frames) -> Vectors:
        checked = check_frames(frames)
        parts = [self._encode(checked[start:start + self._batch_size])
                 for start in range(0, len(checked), self._batch_size)]
        return normalize_rows(np.concatenate(parts))

    def _encode(self, frames: list[Any]) -> Vectors:
        import torch
        from PIL import Image

        batch = torch.stack([self._preprocess(Image.fromarray(frame)) for frame in frames])
        with torch.no_grad():
            features = self._model.encode_image(batch.to(self._device))
        return np.asarray(features.float().cpu().numpy(), dtype=np.float32)
