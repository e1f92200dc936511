"""Saving and loading models as a plain folder, without pickle.

Layout of a saved model::

    model/
      manifest.json   kind, format version, recipe, classes, thresholds, library versions,
                      the caller's metadata and the model's info_ (small, human-readable)
      state.json      everything else the model needs (hyperparameters, vocabularies, ...)
      arrays.npz      numeric state; loads with ``np.load(..., allow_pickle=False)``

The folder is written next to its final place and swapped in with ``os.replace``, so a crash
leaves either the old model or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import uuid
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from tagwise.errors import InvalidArgument

MANIFEST_KIND = "tagwise.text-classifier"
# 2 (2026-11-29): TF-IDF features that read optional Arabic and Hebrew marks as absent, keep combining marks in
# words and may hold a block of single Chinese and Japanese characters, which format 1's readers would read wrong
# or not at all; a version that reads only 1 refuses such a model by its format, and this one reads both
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
_VERSIONED_LIBRARIES = ("numpy", "scipy", "scikit-learn", "sentence-transformers", "torch", "onnxruntime")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def save_model(model: Any, path: Path, metadata: dict[str, Any]) -> None:
    """Write ``model`` as a folder at ``path``, replacing a model folder already there; anything
    else at ``path`` (a file, a folder of other things) is refused, never deleted."""
    from .recipes import model_class_key

    path = Path(path)
    _check_replaceable(path)
    key = model_class_key(model)
    config, arrays = model.export_state()
    thresholds = model.thresholds_
    manifest = {
        "kind": MANIFEST_KIND,
        "format_version": FORMAT_VERSION,
        "recipe": model.info_.get("recipe", key),
        "model_class": key,
        "multi_label": bool(model.multi_label),
        "classes": list(model.classes_),
        "thresholds": None if thresholds is None else [float(t) for t in thresholds],
        "library_versions": library_versions(),
        "metadata": metadata,
        "info": model.info_,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        _write_json(tmp / "manifest.json", manifest)
        _write_json(tmp / "state.json", config)
        with open(tmp / "arrays.npz", "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})
            fh.flush()
            os.fsync(fh.fileno())
        old = None
        if path.exists():  # os.replace cannot overwrite a non-empty folder: move the old one aside
            old = path.parent / f".{path.name}.old-{uuid.uuid4().hex}"
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_replaceable(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        return
    try:
        read_manifest(path)
    except InvalidArgument:
        raise InvalidArgument(f"{path} exists and is not a tagwise model folder: save the model somewhere else, "
                              "or remove it first (tagwise only replaces a model it saved)") from None


def newer_format(path: Path) -> int | None:
    """The format of a model folder a newer tagwise wrote (one this version cannot read), else None."""
    try:
        manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = manifest.get("format_version") if isinstance(manifest, dict) and manifest.get("kind") == MANIFEST_KIND else None
    return found if isinstance(found, int) and not isinstance(found, bool) and found > FORMAT_VERSION else None


def read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = Path(path) / "manifest.json"
    if not manifest_path.is_file():
        raise InvalidArgument(f"no saved model at {path} (manifest.json missing)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"{manifest_path} cannot be read as JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND or manifest.get("format_version") not in READABLE_FORMATS:
        found = newer_format(path)
        newer = f" (it is format {found}, from a newer tagwise)" if found else ""
        raise InvalidArgument(f"{path} is not a tagwise model folder of format {' or '.join(map(str, READABLE_FORMATS))}{newer}")
    return manifest


def load_model(path: Path) -> Any:
    """Load a folder written by :func:`save_model`; predictions match the saved model exactly.

    ``state.json`` and ``arrays.npz`` are what the model is made of; the manifest's classes,
    thresholds and info describe them for people and tools, and editing them changes nothing.
    A folder that is damaged or incomplete raises ``InvalidArgument`` saying which part."""
    import zipfile

    from .recipes import MODEL_CLASSES

    path = Path(path)
    manifest = read_manifest(path)
    key = manifest.get("model_class")
    cls = MODEL_CLASSES.get(key) if isinstance(key, str) else None
    if cls is None:
        raise InvalidArgument(f"unknown model class {key!r} in {path}/manifest.json; known: {', '.join(MODEL_CLASSES)}")
    try:
        config = json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"{path}/state.json cannot be read ({exc}); the model folder is incomplete") from None
    try:
        with np.load(path / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise InvalidArgument(f"{path}/arrays.npz is missing; the model folder is incomplete") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # numpy's own message suggests unpickling: not here
        raise InvalidArgument(f"{path}/arrays.npz is not a numpy .npz archive of plain arrays") from None
    try:
        model = cls.from_state(config, arrays)
        # the parts must fit each other (classes, coefficients, thresholds): find out now, with
        # one text, rather than at the first prediction
        proba = model.predict_proba(["tagwise"])
        fits = proba.shape == (1, len(model.classes_)) and (not model.multi_label or len(model.thresholds_) == len(model.classes_))
        if not fits:
            raise ValueError(f"{proba.shape[1]} probability columns for {len(model.classes_)} classes")
        if not np.isfinite(proba).all():  # NaN weights loaded and answered the first class with NaN probabilities
            raise ValueError("its arrays give probabilities that are not numbers (NaN or infinite weights)")
        return model
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidArgument(f"{path} does not hold a complete {key} model ({type(exc).__name__}: {exc}); "
                              "save or train it again") from None


def _write_json(path: Path, obj: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, default=_json_default)
        fh.flush()
        os.fsync(fh.fileno())


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple | set):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
