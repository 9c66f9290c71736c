"""Hybrid ViTs (the paper's Sec. 3.1: a ResNet stem, then the Transformer) on untrained weights.

Hand-worked layouts, from timm's ``vision_transformer_hybrid.py`` / ``HybridEmbed``:

* ``vit_base_r50_s16_224``: ResNetV2 stages of 3, 4, 9 blocks (stem conv /2, max-pool /2, then
  stages /1, /2, /2) → stride 16, 1024 channels; 1×1 projection → 224 px gives 14×14 cells of
  16 px, 196 + 1 (class) = 197 tokens; 384 px gives 24×24 = 576 + 1.
* ``vit_small_r26_s32_224``: stages of 2, 2, 2, 2 (one more /2) → stride 32, 2048 channels →
  7×7 cells of 32 px, 50 tokens; 384 px → 12×12, 145 tokens; 160 px → 5×5, 26 tokens.

Theoretical receptive field of one cell, worked by hand (r ← r + (k−1)·j, j ← j·s; a
bottleneck's one 3×3 conv adds 2·j, the first block of stages 2–4 strides on it):
R50: 7×7/2 conv → 7 (j 2); 3×3/2 pool → 11 (j 4); stage 1: 3 blocks → 35; stage 2: 43 (j 8)
+ 3·16 → 91; stage 3: 107 (j 16) + 8·32 → 363 px. R26: 11 → stage 1: 27 → stage 2: 35 (j 8),
51 → stage 3: 67 (j 16), 99 → stage 4: 131 (j 32), 195 px.
"""
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SAMPLES
from vitviz.analysis import mean_attention_distance, patchify
from vitviz.analysis.embedding import embedding_stages
from vitviz.analysis.facts import model_facts
from vitviz.analysis.filters import patch_embedding_filters
from vitviz.analysis.posembed import patch_position_embeddings
from vitviz.run.capture import capture, resolve_method
from vitviz.cli.main import main
from vitviz.errors import UnsupportedModelError, VitvizError
from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.run.pipeline import analyze_image, static_analysis
from vitviz.inputs.preprocess import check_input_hw, patch_size_of, stem_stride_of, token_layout
from vitviz.loading.registry import VIT, registry_by_name

R50 = "vit_base_r50_s16_224.orig_in21k"
R26 = "vit_small_r26_s32_224.augreg_in21k_ft_in1k"


@pytest.fixture(scope="module")
def r50():
    torch.manual_seed(0)
    return load_model(R50, pretrained=False, device="cpu")


@pytest.fixture(scope="module")
def r26():
    torch.manual_seed(0)
    return load_model(R26, pretrained=False, device="cpu")


@pytest.fixture(scope="module")
def r26_at_160(r26):
    """One analysis through the pipeline: R26+ViT-S/32 at 160 px = 5×5 cells of 32 px."""
    return analyze_image(r26, load_image(SAMPLES / "cat.jpg"), 160)


def uniform_over_patches(layout):
    """(1, 1, T, T) attention: every patch query attends equally to every patch (nothing to prefix tokens)."""
    t, p, n = layout.num_tokens, layout.num_prefix_tokens, layout.num_patches
    a = torch.zeros(1, 1, t, t, dtype=torch.float64)
    a[..., :p, :] = 1.0 / t
    a[..., p:, p:] = 1.0 / n
    return a


def naive_mean_distance(attn_patch_rows, grid, pitch):
    """Σ_k a_qk ‖c_q − c_k‖ averaged over queries, with a plain loop over cell centres in pixels."""
    gh, gw = grid
    centres = [((r + 0.5) * pitch, (c + 0.5) * pitch) for r in range(gh) for c in range(gw)]
    total = 0.0
    for q, (yq, xq) in enumerate(centres):
        for k, (yk, xk) in enumerate(centres):
            total += attn_patch_rows[q][k] * math.hypot(yq - yk, xq - xk)
    return total / len(centres)


def test_registry_and_models_listing_name_the_hybrids(capsys):
    specs = registry_by_name()
    for name in (R50, R26):
        assert specs[name].family == "Hybrid" and specs[name].kind == VIT
        assert "hybrid" in specs[name].label
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert R50 in listing and R26 in listing
    assert "R50+ViT-B/16 hybrid" in listing and "R26+ViT-S/32 hybrid" in listing


@pytest.mark.parametrize("fixture, grid, pitch, tokens, channels", [
    ("r50", (14, 14), 16, 197, 1024),
    ("r26", (7, 7), 32, 50, 2048),
])
def test_layout_through_the_loading_path_is_the_hand_worked_one(request, fixture, grid, pitch, tokens, channels):
    loaded = request.getfixturevalue(fixture)
    model = loaded.model
    assert not loaded.pretrained and loaded.label.endswith("(untrained)")
    assert model.dynamic_img_size  # vitviz builds ViTs for any multiple of the pitch
    assert tuple(model.patch_embed.patch_size) == (1, 1)  # timm's own number is in feature cells
    assert stem_stride_of(model) == (pitch, pitch) and patch_size_of(model) == (pitch, pitch)
    layout = token_layout(model, (224, 224))
    assert layout.grid == grid and layout.patch_size == (pitch, pitch) and layout.input_hw == (224, 224)
    assert layout.num_tokens == tokens and layout.prefix_names == ("cls",)
    assert layout.hybrid and layout.stem_stride == (pitch, pitch) and layout.projection_kernel == (1, 1)
    np.testing.assert_array_equal(layout.patch_centers_px()[:2], [[pitch / 2, pitch / 2], [pitch / 2, 1.5 * pitch]])
    assert model.patch_embed.proj.weight.shape[1:] == (channels, 1, 1)
    # The walk-through's patch grid: cutting the 224 px input at the pitch gives the token grid.
    assert patchify(np.zeros((224, 224, 3), np.uint8), layout.patch_size).grid == grid


def test_plain_vit_layout_is_not_hybrid(tiny_vit):
    layout = token_layout(tiny_vit, (224, 224))
    assert not layout.hybrid and layout.stem_stride is None and layout.projection_kernel == (16, 16)
    assert stem_stride_of(tiny_vit) is None and model_facts(tiny_vit, layout).stem is None


def test_other_input_sizes(r50, r26):
    # R50 at 384 px: 24×24 cells. Layout from the loaded model; token count from a forward of the same
    # architecture cut to one block (the full R50 at 384 px is slow on 2 cores).
    layout = token_layout(r50.model, (384, 384))
    assert layout.grid == (24, 24) and layout.num_tokens == 577 and layout.input_hw == (384, 384)
    check_input_hw(r50.model, (384, 384))
    import timm

    torch.manual_seed(0)
    shallow = timm.create_model("vit_base_r50_s16_224", pretrained=False, depth=1, dynamic_img_size=True).eval()
    with torch.inference_mode():
        assert shallow.forward_features(torch.zeros(1, 3, 384, 384)).shape == (1, 577, 768)
    assert patch_position_embeddings(r50.model, (24, 24)).shape == (24, 24, 768)
    # Sides that are not multiples of the stride are refused with the reason and the nearest size.
    with pytest.raises(VitvizError, match=r"multiples of the patch size 16 px \(the CNN stem's stride 16 × its "
                                          r"1×1 projection\).*try 192×192"):
        check_input_hw(r50.model, (200, 200))
    layout = token_layout(r26.model, (384, 384))
    assert layout.grid == (12, 12) and layout.num_tokens == 145
    with pytest.raises(VitvizError, match=r"multiples of the patch size 32 px \(the CNN stem's stride 32"):
        check_input_hw(r26.model, (224, 240))


@pytest.mark.parametrize("fixture, pitch, expected", [("r50", 16, 116.49), ("r26", 32, 115.50)])
def test_uniform_attention_distance_is_the_hand_worked_value(request, fixture, pitch, expected):
    layout = token_layout(request.getfixturevalue(fixture).model, (224, 224))
    n = layout.num_patches
    by_hand = naive_mean_distance([[1.0 / n] * n] * n, layout.grid, pitch)
    assert by_hand == pytest.approx(expected, abs=0.005)
    assert mean_attention_distance(uniform_over_patches(layout), layout)[0, 0] == pytest.approx(by_hand, abs=1e-3)


@pytest.mark.parametrize("fixture, grid", [("r50", (8, 8)), ("r26", (4, 4))])
def test_capture_rows_sum_to_one_and_output_equals_a_plain_forward(request, fixture, grid):
    loaded = request.getfixturevalue(fixture)
    model = loaded.model
    assert resolve_method(model) == "qkv"  # timm's hybrids use the same Attention blocks
    torch.manual_seed(1)
    x = torch.randn(1, 3, 128, 128)  # 128 px keeps the stems quick on 2 cores: 8×8 cells of 16 px, 4×4 of 32 px
    with torch.inference_mode():
        plain = model(x)
    result = capture(model, x)
    layout = result.layout
    assert layout.grid == grid and layout.num_tokens == grid[0] * grid[1] + 1
    heads = model.blocks[0].attn.num_heads
    assert result.attention.shape == (12, 1, heads, layout.num_tokens, layout.num_tokens)
    torch.testing.assert_close(result.attention.sum(-1), torch.ones(12, 1, heads, layout.num_tokens), atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(result.output, plain, rtol=1e-4, atol=1e-4)
    assert result.has_head == (fixture == "r26")  # R50's orig_in21k tag is a backbone; R26 has a 1000-class head


def test_pipeline_distance_is_in_pixels_of_the_input(r26_at_160):
    result = r26_at_160
    layout = result.layout
    assert layout.grid == (5, 5) and layout.patch_size == (32, 32) and result.attention.shape == (12, 6, 26, 26)
    assert result.rollout.shape == (5, 5) and result.mean_distance.shape == (12, 6)
    rows = result.attention[3, 2, 1:, 1:].astype(np.float64)  # layer 3, head 2, patch → patch
    assert result.mean_distance[3, 2] == pytest.approx(naive_mean_distance(rows, (5, 5), 32), rel=1e-4)


def test_filters_say_why_a_hybrid_has_none(r50):
    with pytest.raises(UnsupportedModelError) as info:
        patch_embedding_filters(r50.model)
    message = str(info.value)
    for part in ("hybrid", "1×1 convolution over the 1024 channels", "ResNetV2", "stride 16 px", "Fig. 7 (left)",
                 "64 filters of 7×7×3"):
        assert part in message
    static = static_analysis(r50.model, (14, 14))
    assert static.filters is None and static.filter_pca is None and static.filters_note == message
    assert static.pos_similarity.shape == (14, 14, 14, 14)
    np.testing.assert_allclose(np.einsum("ijij->ij", static.pos_similarity), 1.0, atol=1e-6)


def test_embedding_stages_record_the_stem_features(r50, tiny_vit):
    torch.manual_seed(2)
    stages = embedding_stages(r50.model, torch.randn(1, 3, 128, 128))  # 8×8 cells
    assert stages.stem_features.shape == (64, 1024) and stages.patch_tokens.shape == (64, 768)
    assert stages.sequence.shape == (65, 768) and stages.num_prefix_tokens == 1
    proj = r50.model.patch_embed.proj
    expected = stages.stem_features @ proj.weight[:, :, 0, 0].detach().numpy().T + proj.bias.detach().numpy()
    np.testing.assert_allclose(stages.patch_tokens, expected, rtol=1e-4, atol=1e-4)
    assert embedding_stages(tiny_vit, torch.zeros(1, 3, 224, 224)).stem_features is None


@pytest.mark.parametrize("fixture, stem, pitch, channels, rf", [
    ("r50", "ResNetV2, stages of 3, 4, 9 blocks", 16, 1024, 363),
    ("r26", "ResNetV2, stages of 2, 2, 2, 2 blocks", 32, 2048, 195),
])
def test_facts_name_the_stem(request, fixture, stem, pitch, channels, rf):
    model = request.getfixturevalue(fixture).model
    facts = model_facts(model, token_layout(model, (224, 224)))
    assert facts.hybrid and facts.stem == stem and facts.stem_stride == (pitch, pitch)
    assert facts.stem_channels == channels and facts.stem_receptive_field == rf and facts.projection_kernel == (1, 1)
    assert facts.stem_params == sum(p.numel() for p in model.patch_embed.backbone.parameters())
    assert facts.params == sum(p.numel() for p in model.parameters()) > facts.stem_params
    assert facts.patch_size == (pitch, pitch) and facts.layers == 12


def test_paper_figures_say_hybrid(r26, r26_at_160):
    from vitviz.figures.paper import model_differences, paper_sections

    sections = {s.anchor: s for s in paper_sections(r26, [r26_at_160])}
    meta = sections["fig1"].figure.layout.meta
    assert meta["hybrid"] is True and meta["channels"] == 3 and meta["stem_channels"] == 2048
    assert meta["patch_size"] == [32, 32] and meta["grid"] == [5, 5] and meta["stem_stride"] == [32, 32]
    assert sections["fig7-left"].figure is None and "hybrid" in sections["fig7-left"].caption
    assert any("CNN stem" in note for note in model_differences(r26, "ViT-S/32", r26_at_160.facts))


def test_cli_analyze_untrained_hybrid_end_to_end(tmp_path, capsys):
    image = tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(image)
    out = tmp_path / "out"
    assert main(["analyze", str(image), "--model", R26, "--untrained", "--device", "cpu", "--image-size", "160",
                 "--out", str(out)]) == 0
    npz = np.load(out / "small" / "analysis.npz")
    assert npz["attention"].shape == (12, 6, 26, 26)
    np.testing.assert_allclose(npz["attention"].sum(-1), 1.0, atol=1e-4)
    assert npz["rollout"].shape == (5, 5) and npz["mean_attention_distance"].shape == (12, 6)
    assert list(npz["grid"]) == [5, 5] and int(npz["patch_size"]) == 32 and list(npz["stem_stride"]) == [32, 32]
    assert npz["pos_embed_similarity"].shape == (5, 5, 5, 5) and npz["logits"].shape == (1000,)
    assert "filters_pca" not in npz.files and "filters_explained_variance" not in npz.files
    summary = json.loads((out / "small" / "summary.json").read_text())
    assert summary["facts"]["stem"] == "ResNetV2, stages of 2, 2, 2, 2 blocks"
    assert summary["facts"]["stem_stride"] == [32, 32] and summary["facts"]["tokens"] == 26
    assert summary["filters"].startswith("not written: the model is a hybrid")
    assert summary["input_size"] == [160, 160] and summary["pretrained"] is False
