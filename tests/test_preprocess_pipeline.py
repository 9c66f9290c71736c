"""Preprocessing, token layout, and the per-image / per-dataset pipeline."""
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import IMAGENET_CONFIG as CONFIG
from conftest import make_vit
from vitviz.errors import VitvizError
from vitviz.run.pipeline import analyze_image, dataset_mean_distance, static_analysis
from vitviz.inputs.preprocess import check_input_hw, denormalize, prepare_image, token_layout



def gradient_image(w=300, h=200):
    x = np.linspace(0, 255, w, dtype=np.uint8)
    return Image.fromarray(np.stack([np.tile(x, (h, 1)), np.tile(x[::-1], (h, 1)), np.full((h, w), 90, np.uint8)], -1))


def test_prepare_image_display_is_exactly_the_network_input():
    prepared = prepare_image(gradient_image(), CONFIG)
    assert prepared.tensor.shape == (1, 3, 224, 224) and prepared.display.shape == (224, 224, 3)
    np.testing.assert_array_equal(denormalize(prepared.tensor, CONFIG["mean"], CONFIG["std"]), prepared.display)


def test_prepare_image_matches_timm_eval_transform():
    from timm.data import create_transform

    image = gradient_image()
    reference = create_transform(**{k: v for k, v in CONFIG.items()}, is_training=False)(image)
    torch.testing.assert_close(prepare_image(image, CONFIG).tensor[0], reference, atol=1e-6, rtol=0)


def test_non_square_size():
    prepared = prepare_image(gradient_image(), CONFIG, (160, 256))
    assert prepared.hw == (160, 256)


def test_layout_from_the_model_not_sqrt(tiny_vit):
    layout = token_layout(tiny_vit, (160, 256))
    assert layout.grid == (10, 16) and layout.num_tokens == 161 and layout.input_hw == (160, 256)
    np.testing.assert_allclose(layout.patch_centers_px()[:2], [[8, 8], [8, 24]])


def test_sizes_the_model_cannot_take(tiny_vit):
    check_input_hw(tiny_vit, (384, 384))
    with pytest.raises(VitvizError, match="multiples of the patch size 16.*try 224×224"):
        check_input_hw(tiny_vit, (230, 220))
    with pytest.raises(VitvizError, match="at most"):
        check_input_hw(tiny_vit, (2048, 2048))
    fixed = make_vit(depth=1, dynamic_img_size=False)
    with pytest.raises(VitvizError, match="only 224×224"):
        check_input_hw(fixed, (256, 256))


def test_analyze_image_is_consistent(tiny_loaded):
    from vitviz.analysis import mean_attention_distance, rollout_map

    result = analyze_image(tiny_loaded, gradient_image(), 192)
    assert result.layout.grid == (12, 12)
    assert result.attention.shape == (3, 3, 145, 145)
    np.testing.assert_allclose(result.mean_distance, mean_attention_distance(result.attention, result.layout))
    np.testing.assert_allclose(result.rollout, rollout_map(result.attention, result.layout))
    with torch.inference_mode():
        logits = tiny_loaded.model(result.prepared.tensor)[0].numpy()
    np.testing.assert_allclose(result.logits, logits, rtol=1e-5, atol=1e-5)
    assert len(result.predictions) == 5 and result.predictions[0].index == int(logits.argmax())
    from vitviz.analysis import class_names

    names = class_names(tiny_loaded.model)
    assert names[0] == "tench, Tinca tinca" and len(names) == 1000  # timm's ImageNet-1k names
    assert result.predictions[0].label == names[result.predictions[0].index]
    assert sum(p.probability for p in result.predictions) <= 1.0
    assert result.facts.layers == 3 and result.facts.heads == 3 and result.facts.hidden_size == 192
    assert result.facts.mlp_size == 768 and result.facts.tokens == 145
    assert result.static.pos_similarity.shape == (12, 12, 12, 12)


def test_static_analysis_is_computed_once_per_model_and_grid(tiny_loaded):
    a = static_analysis(tiny_loaded.model, (14, 14))
    assert static_analysis(tiny_loaded.model, (14, 14)) is a
    b = static_analysis(tiny_loaded.model, (12, 12))
    assert b is not a and b.pos_similarity.shape == (12, 12, 12, 12)
    assert b.filter_pca is a.filter_pca and b.filters is a.filters  # the filters' SVD once per model, not per size


def test_to_float16_is_numpys_cast_bit_for_bit():
    from vitviz.run.pipeline import to_float16

    rng = np.random.default_rng(0)
    # probabilities spanning float16's normal, subnormal and underflow ranges, plus edge values
    values = np.concatenate([rng.random(5000), 10.0 ** rng.uniform(-12, 0, 5000),
                             [0.0, -0.0, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9, 65504.0, 65520.0, 1e6, -3.5,
                              np.inf, -np.inf]]).astype(np.float32)
    got, want = to_float16(values), values.astype(np.float16)
    assert got.dtype == np.float16 and np.array_equal(got.view(np.uint16), want.view(np.uint16))
    grid = values[:10000].reshape(100, 100)[:, ::3]  # a strided view
    assert np.array_equal(to_float16(grid).view(np.uint16), grid.astype(np.float16).view(np.uint16))
    assert np.isnan(to_float16(np.array([np.nan], np.float32)))[0]


def test_dataset_distance_streams_and_equals_mean_of_single_images(tiny_loaded):
    images = [gradient_image(300 + 10 * i, 200 + 7 * i) for i in range(5)]
    done = []
    result = dataset_mean_distance(tiny_loaded, iter(images), batch_size=2, progress=done.append)
    assert done == [2, 4, 5] and result.num_images == 5
    singles = np.mean([analyze_image(tiny_loaded, im).mean_distance for im in images], axis=0)
    np.testing.assert_allclose(result.mean, singles, rtol=1e-5)
    with pytest.raises(VitvizError, match="no images"):
        dataset_mean_distance(tiny_loaded, [])
