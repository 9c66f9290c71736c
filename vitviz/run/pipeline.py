"""Everything vitviz computes for one image, or for a set of images, as the CLI and app use it.

Static analyses (patch-embedding filters and position-embedding similarity) depend on the
model and token grid only, so they are computed once per (model, grid) and cached; per-image
work is one captured forward pass plus rollout, distances and predictions on its output.
"""
from __future__ import annotations

import dataclasses
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image
from torch import nn

from vitviz.analysis import (
    FilterComponents,
    MeanDistanceAccumulator,
    ModelFacts,
    Prediction,
    class_names,
    filter_components,
    find_attention_sinks,
    mean_attention_distance,
    model_facts,
    patch_embedding_filters,
    patch_position_embeddings,
    position_embedding_similarity,
    default_query,
    rollout_map,
    top_k,
    EffectiveRF,
    LayerRF,
    StageFeatures,
    effective_receptive_fields,
)
from vitviz.analysis.cnn_features import describe_stages, stage_maps_and_output, stage_names
from vitviz.analysis.receptive_field import receptive_fields
from vitviz.analysis.filters import PAPER_NUM_COMPONENTS
from vitviz.analysis.tokens import TokenPCA, token_pca
from vitviz.run.capture import block_output_hooks, capture, patch_features
from vitviz.errors import UnsupportedModelError, VitvizError
from vitviz.loading.models import LoadedModel
from vitviz.inputs.images import load_image, sample_paths
from vitviz.inputs.preprocess import (PreparedImage, SizeArg, TokenLayout, check_input_hw, input_hw, prepare_image,
                                      token_layout)
from vitviz.model_parts import attention_heads, transformer_blocks


@dataclass(frozen=True)
class StaticAnalysis:
    """Per-model results that do not depend on the image.

    Attributes:
        filters: raw patch-embedding filters ``(D, C, ph, pw)``; None when the model has none that
            read pixels (a hybrid's projection is 1×1 over CNN features), and ``filters_note`` says why.
        filter_pca: top principal components of those filters (None with ``filters``).
        pos_similarity: ``(gh, gw, gh, gw)`` cosine similarity, or None without position embeddings.
        filters_note: one line for users when ``filters`` is None, else None.
    """

    filters: Optional[np.ndarray]
    filter_pca: Optional[FilterComponents]
    pos_similarity: Optional[np.ndarray]
    filters_note: Optional[str] = None


_static_cache: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()
_static_lock = threading.Lock()


def static_analysis(model: nn.Module, grid: tuple[int, int], k: int = PAPER_NUM_COMPONENTS) -> StaticAnalysis:
    """Filters, their PCA and position-embedding similarity for ``grid``; cached per model and grid
    (the filters and their PCA once per model: a new input size computes only the similarity)."""
    key = (tuple(grid), k)
    with _static_lock:
        cached = _static_cache.get(model, {})
        hit, filters_hit = cached.get(key), cached.get(("filters", k))
    if hit is not None:
        return hit
    if filters_hit is None:  # the filters and their PCA (an SVD) are the model's, whatever the grid
        filters: Optional[np.ndarray]
        note: Optional[str] = None
        try:
            filters = patch_embedding_filters(model)
        except UnsupportedModelError as exc:  # e.g. a hybrid: its projection reads CNN features, not pixels
            filters, note = None, str(exc)
        filters_hit = (filters, filter_components(filters, k) if filters is not None else None, note)
    try:
        similarity = position_embedding_similarity(patch_position_embeddings(model, grid))
    except UnsupportedModelError:
        similarity = None
    filters, pca, note = filters_hit
    result = StaticAnalysis(filters=filters, filter_pca=pca, pos_similarity=similarity, filters_note=note)
    with _static_lock:
        entry = _static_cache.setdefault(model, {})
        entry[key] = result
        entry.setdefault(("filters", k), filters_hit)
    return result


@dataclass
class ImageAnalysis:
    """All per-image results for one model.

    Attributes:
        prepared: the network input and its display pixels.
        layout: token layout of that input.
        output: ``model(x)[0]`` as numpy: logits, or pooled features for a headless model.
        logits: ``(classes,)`` or None without a classifier head.
        attention: ``(layers, heads, T, T)`` float32 probabilities.
        rollout: ``(gh, gw)`` rollout map (mean fusion, no discard, CLS or mean-patch query).
        mean_distance: ``(layers, heads)`` mean attention distance in input pixels.
        predictions: top-k classes (empty without a head).
        facts: Table-1 facts.
        static: the model's image-independent analyses.
        token_norms: ``(layers, T)`` L2 norm of every block's output tokens (for high-norm
            artefact tokens, :func:`vitviz.analysis.find_norm_outliers`).
        patch_tokens: ``(layers, gh, gw, D)`` every layer's patch features — block ℓ's output
            after the model's final norm, prefix tokens dropped (:func:`vitviz.run.capture.patch_features`);
            float32 here, float16 in :func:`frozen_compact`. For
            :func:`vitviz.analysis.tokens.token_similarity` and joint PCA fits over several images.
        token_pca: per layer, the PCA of that layer's patch features fitted on this image
            (:func:`vitviz.analysis.tokens.token_pca`, k = 3, foreground threshold 0), computed
            from the float32 features.
        sink_tokens: token indices of the attention sinks found in this image
            (:func:`vitviz.analysis.find_attention_sinks` with its defaults), patches in row-major order
            after the prefix tokens; empty when there is none.
        rollout_without_sinks: ``rollout`` with the sinks left out as keys in every layer (rows
            renormalised, :func:`vitviz.analysis.rollout_map` ``exclude_keys``), None without sinks.
            The paper-style figures show this one where sinks are found (:attr:`figure_rollout`): on
            DINOv2 the plain rollout of every sample is one bright patch, the sink, not the object.
    """

    prepared: PreparedImage
    layout: TokenLayout
    output: np.ndarray
    logits: Optional[np.ndarray]
    attention: np.ndarray
    rollout: np.ndarray
    mean_distance: np.ndarray
    predictions: list[Prediction]
    facts: ModelFacts
    static: StaticAnalysis
    token_norms: Optional[np.ndarray] = None
    patch_tokens: Optional[np.ndarray] = None
    token_pca: Optional[tuple[TokenPCA, ...]] = None
    sink_tokens: tuple[int, ...] = ()
    rollout_without_sinks: Optional[np.ndarray] = None

    @property
    def figure_rollout(self) -> np.ndarray:
        """The rollout a paper-style figure shows: without the sinks where there are sinks, else the rollout."""
        return self.rollout if self.rollout_without_sinks is None else self.rollout_without_sinks


def analyze_image(loaded: LoadedModel, image: Image.Image, size: SizeArg = None, *, k: int = 5,
                  with_token_pca: bool = False) -> ImageAnalysis:
    """Run every per-image analysis of one image (and fetch the cached static ones).

    ``token_pca`` is filled only ``with_token_pca`` (the CLI does): the 12–32 per-layer PCAs cost
    about as much as the forward on a CPU, and a view that shows one layer at a time fits that
    layer from ``patch_tokens`` (:func:`vitviz.analysis.tokens.token_pca`).
    """
    if loaded.spec.kind != "vit":
        raise VitvizError(f"'{loaded.name}' is a CNN; attention analyses need a ViT")
    hw = input_hw(loaded.data_config, size)
    check_input_hw(loaded.model, hw)
    return analyze_prepared(loaded, prepare_image(image, loaded.data_config, hw), k=k, with_token_pca=with_token_pca)


def analyze_prepared(loaded: LoadedModel, prepared: PreparedImage, *, k: int = 5,
                     with_token_pca: bool = False) -> ImageAnalysis:
    """:func:`analyze_image` after preprocessing: one captured forward, then the analyses on its output."""
    return analyze_prepared_batch(loaded, [prepared], k=k, with_token_pca=with_token_pca)[0]


def analyze_prepared_batch(loaded: LoadedModel, prepared: list[PreparedImage], *, k: int = 5,
                           with_token_pca: bool = False) -> list[ImageAnalysis]:
    """:func:`analyze_prepared` for several images of one input size in one batched forward.

    Image ``i``'s analysis equals ``analyze_prepared(loaded, prepared[i])`` to float rounding (a
    ViT's tokens never mix across the batch; only the matrix products' blocking differs). The
    captured attention of the whole batch is one float32 tensor, ``layers · B · heads · T² · 4``
    bytes (ViT-S/14 at 224 px: 19 MiB per image), which each image's result holds a view of
    when ``B`` is 1 and a copy of otherwise, so one result never keeps the others' maps alive.
    """
    return list(iter_analyses(loaded, prepared, k=k, with_token_pca=with_token_pca))


def iter_analyses(loaded: LoadedModel, prepared: list[PreparedImage], *, k: int = 5,
                  with_token_pca: bool = False) -> Iterator[ImageAnalysis]:
    """:func:`analyze_prepared_batch` as a generator: the batched forward, then each image's analysis
    as soon as it is done (a server hands it to its session while the next image is finished)."""
    if not prepared:
        return
    sizes = {tuple(p.tensor.shape[-2:]) for p in prepared}
    if len(sizes) != 1:
        raise VitvizError(f"a batched analysis needs one input size, got {sorted(sizes)}")
    x = torch.cat([p.tensor for p in prepared]).to(device=loaded.device, dtype=loaded.dtype)
    model = loaded.model
    outputs: list[torch.Tensor] = []
    with block_output_hooks(model, lambda _layer, out: outputs.append(out)):
        result = capture(model, x)
    # Reduced together after the forward (a few ops instead of a few per block: on small models the
    # per-op overhead showed in analysis/forward). The outputs, layers·B·T·D, are ~D/(heads·T) of the
    # attention maps captured with them.
    blocks = torch.stack(outputs)  # (layers, B, T, D)
    outputs.clear()
    assert result.attention is not None
    layout = result.layout
    batch = len(prepared)
    layers = blocks.shape[0]
    tokens = patch_features(model, blocks.flatten(0, 1), layout).reshape(layers, batch, *layout.grid, -1).cpu().numpy()
    norms = blocks.float().norm(dim=-1).cpu().numpy()  # (layers, B, T)
    output_all = result.output.float().cpu().numpy()
    facts = model_facts(loaded.model, layout)
    static = static_analysis(loaded.model, layout.grid)
    names = class_names(loaded.model) if result.has_head else None
    for i, prep in enumerate(prepared):
        attention = result.attention[:, i] if batch == 1 else result.attention[:, i].clone()
        output = output_all[i] if batch == 1 else output_all[i].copy()
        logits = output if result.has_head else None
        image_tokens = tokens[:, i] if batch == 1 else np.ascontiguousarray(tokens[:, i])
        sink_tokens = find_attention_sinks(attention, layout).sink_tokens
        yield ImageAnalysis(
            prepared=prep,
            layout=layout,
            output=output,
            logits=logits,
            attention=attention.cpu().numpy(),
            rollout=rollout_map(attention, layout, query=default_query(layout)),
            mean_distance=mean_attention_distance(attention, layout),
            predictions=top_k(logits, k, names) if logits is not None else [],
            facts=facts,
            static=static,
            token_norms=norms[:, i] if batch == 1 else np.ascontiguousarray(norms[:, i]),
            patch_tokens=image_tokens,
            token_pca=tuple(token_pca(layer) for layer in image_tokens) if with_token_pca else None,
            sink_tokens=tuple(sink_tokens),
            rollout_without_sinks=(rollout_map(attention, layout, query=default_query(layout),
                                               exclude_keys=sink_tokens) if sink_tokens else None),
        )


def analysis_nbytes(result: object) -> int:
    """Bytes of every numpy array, tensor, string and bytes object held by ``result`` (dataclasses, lists,
    tuples, dicts and plotly figures followed).

    The static analyses are counted too although they are shared per model and grid, so the
    figure is an upper bound of what one cached analysis adds.
    """
    seen: set[int] = set()

    def walk(obj: object) -> int:
        if id(obj) in seen:
            return 0
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            return int(obj.nbytes)
        if isinstance(obj, torch.Tensor):
            return int(obj.element_size() * obj.nelement())
        if isinstance(obj, (bytes, bytearray)):
            return len(obj)
        if isinstance(obj, str):  # HTML pages and pictures as data URIs; ASCII mostly, 1 byte a character
            return len(obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return sum(walk(getattr(obj, f.name)) for f in dataclasses.fields(obj))
        if isinstance(obj, (list, tuple)):
            return sum(walk(v) for v in obj)
        if isinstance(obj, dict):
            return sum(walk(v) for v in obj.values())
        if hasattr(obj, "to_plotly_json"):  # a plotly figure: its data and layout as plain dicts and arrays
            return walk(obj.to_plotly_json())
        return 0

    return walk(result)


def estimate_analysis_nbytes(layers: int, heads: int, num_prefix_tokens: int, grid: tuple[int, int],
                             patch_size: tuple[int, int], *, embed_dim: int, attention_itemsize: int = 2,
                             token_itemsize: int = 2) -> int:
    """What one cached analysis holds, before computing it (an upper bound of :func:`analysis_nbytes`).

    Attention ``layers · heads · T² · itemsize`` dominates; add the position-similarity grid
    (``(gh·gw)²`` float64), the input tensor and display pixels, token norms, the patch features
    ``layers · gh·gw · embed_dim · token_itemsize`` with each layer's token PCA (colours and
    scores float32, mask, mean and components float64), and 4 MiB for the rest (filters,
    logits, maps). The itemsizes default to :func:`frozen_compact`'s float16. ViT-S/14 at 518 px:
    ≈ 314 MiB, of which the features are 12 MiB.
    """
    gh, gw = grid
    patches = gh * gw
    tokens = num_prefix_tokens + patches
    h, w = gh * patch_size[0], gw * patch_size[1]
    features = layers * (patches * embed_dim * token_itemsize + patches * (3 * 4 + 3 * 4 + 1) + 4 * embed_dim * 8)
    return (layers * heads * tokens * tokens * attention_itemsize + patches ** 2 * 8 + h * w * 3 * 5
            + layers * tokens * 4 + features + 4 * 1024 * 1024)


def to_float16(values: np.ndarray) -> np.ndarray:
    """``values.astype(np.float16)``, bit for bit (round to nearest even, subnormals kept), by torch.

    NumPy converts element by element, and slowly for values below float16's normal range
    (< 6.1·10⁻⁵), which are 30 % of a trained ViT's attention probabilities; torch casts them vectorised,
    about 20× faster (``bench/RESULTS.md``).
    """
    return torch.from_numpy(np.ascontiguousarray(values)).to(torch.float16).numpy()


def frozen_compact(result: ImageAnalysis) -> ImageAnalysis:
    """A copy for a cache shared by many sessions: attention and patch features as float16, every array read-only.

    Attention probabilities become float16 (display maps and rollouts at other settings are
    computed from them: relative error ≤ 2⁻¹¹ per entry from 6·10⁻⁵ up, absolute error ≤ 3·10⁻⁸
    below, where float16 is subnormal); so do the patch features (similarities and joint PCA
    fits are computed from them; after the final norm their entries are far inside float16's
    range, ±65504). The reductions already computed (rollout, mean distance, logits, token
    norms, per-layer token PCA) stay as they are. Read-only arrays make an accidental in-place
    edit by one session raise instead of changing every session's view.
    """
    tokens = result.patch_tokens
    compact = dataclasses.replace(result, attention=to_float16(result.attention),
                                  patch_tokens=to_float16(tokens) if tokens is not None else None)
    pca_arrays = [a for p in compact.token_pca or () for a in (p.rgb, p.scores, p.foreground, p.fit.mean,
                                                               p.fit.components, p.fit.explained_variance_ratio,
                                                               p.fit.low, p.fit.high, p.fit.score_std)]
    for value in (compact.attention, compact.rollout, compact.rollout_without_sinks, compact.mean_distance,
                  compact.output, compact.logits, compact.token_norms, compact.patch_tokens, compact.prepared.display, compact.static.filters,
                  compact.static.pos_similarity, *pca_arrays):
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return compact


@dataclass(frozen=True)
class DatasetDistance:
    """Mean attention distance over a set of images: ``mean`` is ``(layers, heads)`` in pixels."""

    mean: np.ndarray
    num_images: int
    layout: TokenLayout


def dataset_mean_distance(
    loaded: LoadedModel,
    images: Iterable[Image.Image],
    size: SizeArg = None,
    *,
    batch_size: int = 8,
    renormalize: bool = False,
    progress: Optional[Callable[[int], None]] = None,
) -> DatasetDistance:
    """Stream images through the model in batches, keeping only a ``(layers, heads)`` running sum.

    ``progress(n)`` is called with the number of images done after each batch.
    """
    hw = input_hw(loaded.data_config, size)
    check_input_hw(loaded.model, hw)
    model = loaded.model
    layout = token_layout(model, hw)
    acc = MeanDistanceAccumulator(layout, len(transformer_blocks(model)), attention_heads(model),
                                  renormalize=renormalize)
    batch: list[torch.Tensor] = []
    done = 0

    def flush() -> None:
        nonlocal done
        x = torch.cat(batch).to(device=loaded.device, dtype=loaded.dtype)
        capture(model, x, keep_attention=False, on_attention=acc)
        done += len(batch)
        batch.clear()
        if progress is not None:
            progress(done)

    for image in images:
        batch.append(prepare_image(image, loaded.data_config, hw).tensor)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    if done == 0:
        raise VitvizError("no images to compute the mean attention distance over")
    return DatasetDistance(mean=acc.result(), num_images=done, layout=layout)


@dataclass
class CNNAnalysis:
    """A CNN's stage features and receptive fields for one image.

    Attributes:
        prepared: the network input and its display pixels.
        features: per-stage top channels and PCA colouring.
        layers: theoretical receptive field after every conv/pool layer.
        stages: theoretical receptive field at every stage output.
        effective: effective receptive field of each stage's centre unit (this image's gradients).
        predictions: top classes of the model's head, best first (empty for a headless CNN).
    """

    prepared: PreparedImage
    features: list[StageFeatures]
    layers: list[LayerRF]
    stages: list[LayerRF]
    effective: list[EffectiveRF]
    predictions: list[Prediction]


def analyze_cnn(loaded: LoadedModel, image: Image.Image, size: SizeArg = None, *, k: int = 16,
                share: float = 0.5, top: int = 5) -> CNNAnalysis:
    """Stage features, theoretical and effective receptive fields and top-``top`` predictions of a timm CNN."""
    if loaded.spec.kind != "cnn":
        raise VitvizError(f"'{loaded.name}' is not a CNN")
    hw = input_hw(loaded.data_config, size)
    check_input_hw(loaded.model, hw)
    prepared = prepare_image(image, loaded.data_config, hw)
    model = loaded.model
    x = prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
    layers, stages = receptive_fields(model, stage_names(model))
    maps: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []

    def stage_maps_kept(inp: torch.Tensor) -> list[torch.Tensor]:
        # The gradient pass's own feature maps also feed the channel views, and its output the
        # predictions: one forward, not three.
        stage_out, output = stage_maps_and_output(model, inp)
        maps[:], outputs[:] = stage_out, [output.detach()]
        return maps

    effective = effective_receptive_fields(stage_maps_kept, x, share=share)
    predictions = top_k(outputs[0][0], top, class_names(model)) if loaded.num_classes > 0 else []
    return CNNAnalysis(prepared=prepared, features=describe_stages(model, maps, k), layers=layers, stages=stages,
                       effective=effective, predictions=predictions)


def analyze_samples(loaded: LoadedModel, image_paths: Optional[Sequence[Union[str, Path]]] = None,
                    size: SizeArg = None, *, k: int = 1) -> list[ImageAnalysis]:
    """:func:`analyze_image` for every image (default: every bundled sample), in order.

    ``k`` top classes are kept per image (for the Fig. 6 labels of a model with a head).
    """
    paths = list(image_paths) if image_paths is not None else sample_paths()
    if not paths:
        raise VitvizError("no images for the paper figures")
    return [analyze_image(loaded, load_image(Path(p)), size, k=k) for p in paths]
