"""Every model in the real weights folder (../shared/weights in CI), loaded the offline way."""
import numpy as np
import pytest
from PIL import ImageOps

from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.run.pipeline import analyze_cnn, analyze_image
from vitviz.loading.weights import scan_weights_dir, sha256sum

pytestmark = pytest.mark.real_weights

# Words that a sensible ImageNet label for each bundled sample contains.
EXPECTED_LABELS = {
    "cat": ("cat", "tabby", "lynx"),
    "coffee": ("espresso", "cup", "coffee", "mug"),
    "rocket": ("missile", "projectile", "space shuttle", "rocket"),
}


@pytest.fixture(scope="module")
def local_models(weights_dir):
    found = scan_weights_dir(weights_dir)
    assert found, f"no usable weights in {weights_dir}"
    return [load_model(lw.name, weights_dir=weights_dir, device="cpu") for lw in found]


def test_every_model_loads_from_the_folder_with_its_checksum(weights_dir, local_models):
    for loaded in local_models:
        assert loaded.source == f"local:{weights_dir / loaded.name}.safetensors"
        assert loaded.pretrained and "untrained" not in loaded.label
        if loaded.spec.sha256:
            assert sha256sum(weights_dir / f"{loaded.name}.safetensors") == loaded.spec.sha256


def test_position_embeddings_are_structured(local_models, sample_paths):
    for loaded in (m for m in local_models if m.spec.kind == "vit"):
        sim = analyze_image(loaded, load_image(sample_paths[0])).static.pos_similarity
        gh, gw = sim.shape[:2]
        near = [sim[i, j, i, j + 1] for i in range(gh) for j in range(gw - 1)]
        near += [sim[i, j, i + 1, j] for i in range(gh - 1) for j in range(gw)]
        far = [sim[i, j, (i + gh // 2) % gh, (j + gw // 2) % gw] for i in range(gh) for j in range(gw)]
        assert np.mean(near) > 0.5, loaded.name
        assert np.mean(near) > np.mean(far) + 0.3, loaded.name


def test_features_recognise_a_mirrored_photo(local_models, sample_paths):
    """A trained backbone maps a photo and its mirror image closer than any other sample."""
    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    for loaded in (m for m in local_models if m.spec.kind == "vit"):
        images = {p.stem: load_image(p) for p in sample_paths}
        feats = {k: analyze_image(loaded, im).output for k, im in images.items()}
        for name, image in images.items():
            mirrored = analyze_image(loaded, ImageOps.mirror(image)).output
            others = max(cos(feats[name], feats[o]) for o in feats if o != name)
            assert cos(feats[name], mirrored) > others + 0.05, (loaded.name, name)


def predictions(loaded, image):
    """Top-5 of any classifier in the folder: ViTs through the attention analysis, CNNs through the CNN one."""
    analyze = analyze_image if loaded.spec.kind == "vit" else analyze_cnn
    return analyze(loaded, image).predictions


def test_classifiers_give_sensible_labels(local_models, sample_paths):
    """Every classifier the folder holds, whatever its kind (ViT or CNN), names the samples sensibly."""
    classifiers = [m for m in local_models if m.num_classes > 0]
    if not classifiers:
        pytest.skip("the weights folder holds no classifier (only backbones)")
    paths = {p.stem: p for p in sample_paths}
    for loaded in classifiers:
        for sample, words in EXPECTED_LABELS.items():
            top5 = [p.label.lower() for p in predictions(loaded, load_image(paths[sample]))]
            assert len(top5) == 5
            assert any(w in label for label in top5 for w in words), (loaded.name, sample, top5)
