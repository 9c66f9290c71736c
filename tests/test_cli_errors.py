"""Ordinary mistakes on the command line: each gives one line on stderr and exit status 2, no traceback.

Output folders are checked before any model is loaded (``load_model`` fails the test if called).
Permission cases run with the effective user ``nobody`` when the tests run as root (root may write
and read anything), in a world-writable temporary folder.
"""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import SAMPLES, damaged_tiff
from vitviz.cli.main import main

TINY = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
CNN = "resnet18.a1_in1k"


def one_line_error(capsys, code):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def no_model_load(monkeypatch):
    """Fails the test if a model is loaded: the mistake must be found before."""
    import vitviz.loading.models

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the mistake was found")

    monkeypatch.setattr(vitviz.loading.models, "load_model", refuse)


# ------------------------------------------------------------------------- output folders
COMMANDS = {
    "analyze": lambda out: ["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--out", out],
    "cnn": lambda out: ["cnn", str(SAMPLES / "cat.jpg"), "--model", CNN, "--untrained", "--out", out],
    "paper": lambda out: ["paper", "--model", TINY, "--untrained", "--out", out],
    "distance": lambda out: ["distance", str(SAMPLES), "--model", TINY, "--untrained", "--out", out],
    "download": lambda out: ["download", TINY, "--to", out],
    "trace": lambda out: ["trace", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--patch", "3,4",
                          "--out", out],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_that_is_a_file(command, tmp_path, capsys, no_model_load):
    target = tmp_path / "taken.txt"
    target.write_text("mine\n")
    err = one_line_error(capsys, main(COMMANDS[command](str(target))))
    option = "--to" if command == "download" else "--out"
    assert f"{option} {target}: is a file, not a folder" in err
    assert target.read_text() == "mine\n"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_below_a_file(command, tmp_path, capsys, no_model_load):
    (tmp_path / "file").write_text("")
    err = one_line_error(capsys, main(COMMANDS[command](str(tmp_path / "file" / "out"))))
    assert "cannot create the folder (Not a directory)" in err


@contextlib.contextmanager
def unprivileged():
    """Run the block as user ``nobody`` if we are root (effective ids only, restored after).

    What the block imports is imported first: the interpreter's own files may be private to root.
    """
    if os.geteuid() != 0:
        yield
        return
    import timm  # noqa: F401
    import vitviz.run.distance_stream, vitviz.loading.download, vitviz.run.explain, vitviz.figures.paper, vitviz.run.pipeline  # noqa: F401,E401
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def shared_tmp():
    """A temporary folder ``nobody`` may use (pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="vitviz-cli-errors-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
@pytest.mark.parametrize("command", list(COMMANDS))
def test_out_that_is_not_writable(command, shared_tmp, capsys, no_model_load):
    locked = shared_tmp / "read-only"
    locked.mkdir()
    locked.chmod(0o555)
    with unprivileged():
        code = main(COMMANDS[command](str(locked)))
    err = one_line_error(capsys, code)
    assert f"{locked}: cannot write into the folder (Permission denied)" in err
    assert list(locked.iterdir()) == []


# ------------------------------------------------------------------------- inputs
@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
@pytest.mark.parametrize("command", ["analyze", "cnn", "paper"])
def test_unreadable_image(command, shared_tmp, capsys):
    image = shared_tmp / "secret.jpg"
    shutil.copy(SAMPLES / "cat.jpg", image)
    image.chmod(0o000)
    args = {"analyze": ["analyze", str(image), "--model", TINY],
            "cnn": ["cnn", str(image), "--model", CNN],
            "paper": ["paper", str(image), "--model", TINY]}[command]
    with unprivileged():
        code = main([*args, "--untrained", "--device", "cpu", "--out", str(shared_tmp / "out")])
    err = one_line_error(capsys, code)
    assert f"{image}: cannot read the file (Permission denied)" in err


@pytest.mark.parametrize("command", ["analyze", "cnn"])
def test_damaged_tiff(command, tmp_path, capsys):
    image = tmp_path / "scan.tif"
    image.write_bytes(damaged_tiff())
    model = TINY if command == "analyze" else CNN
    code = main([command, str(image), "--model", model, "--untrained", "--device", "cpu", "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert f"{image}: the image data is damaged (Missing dimensions)" in err


def test_model_name_cannot_reach_outside_the_weights_folder(tmp_path, capsys):
    """``--model ../outside/m`` would have loaded ``outside/m.safetensors`` beside the weights folder."""
    from safetensors.torch import save_file
    import timm

    (tmp_path / "weights").mkdir()
    (tmp_path / "outside").mkdir()
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=1, num_classes=0)
    save_file(model.state_dict(), tmp_path / "outside" / "m.safetensors")
    (tmp_path / "outside" / "m.json").write_text(json.dumps(
        {"architecture": "vit_tiny_patch16_224", "kwargs": {"depth": 1, "num_classes": 0}}))
    code = main(["analyze", str(SAMPLES / "cat.jpg"), "--model", "../outside/m", "--weights-dir",
                 str(tmp_path / "weights"), "--device", "cpu", "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert "model name '../outside/m' is not a name" in err
    assert not (tmp_path / "o" / "cat").exists()


@pytest.mark.parametrize("name", ["../outside/m", "sub/m", "..", "a\\b", "m..x"])
def test_weights_lookup_refuses_paths(name, tmp_path):
    """In the library, so the app's links get the same refusal."""
    from vitviz.errors import UnknownModelError
    from vitviz.loading.weights import find_local_weights

    with pytest.raises(UnknownModelError, match="is not a name"):
        find_local_weights(name, tmp_path)
    assert find_local_weights("vit_small_patch14_dinov2.imgfocus", tmp_path) is None  # names still work


@pytest.mark.parametrize("command, size", [("analyze", "1000000000"), ("analyze", "224x5000"), ("cnn", "1000000000"),
                                           ("distance", "1000000000")])
def test_image_size_too_large_states_the_maximum(command, size, tmp_path, capsys):
    model = CNN if command == "cnn" else TINY
    source = str(SAMPLES) if command == "distance" else str(SAMPLES / "cat.jpg")
    code = main([command, source, "--model", model, "--untrained", "--device", "cpu", "--image-size", size,
                 "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert "is too large: at most 1024 px a side" in err and "try" not in err


def test_image_size_not_a_multiple_suggests_a_usable_size(tmp_path, capsys):
    code = main(["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--device", "cpu",
                 "--image-size", "1020", "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert "try 1024×1024" in err


@pytest.mark.parametrize("command", ["cnn", "analyze", "paper", "distance"])
def test_empty_folder_says_it_holds_no_images(command, tmp_path, capsys):
    empty = tmp_path / "emptydir"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here\n")
    model = CNN if command == "cnn" else TINY
    code = main([command, str(empty), "--model", model, "--untrained", "--device", "cpu",
                 "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert f"{empty}: the folder holds no images" in err and "no such file" not in err


def test_cnn_given_a_folder_of_images_asks_for_one_file(tmp_path, capsys, no_model_load):
    code = main(["cnn", str(SAMPLES), "--model", CNN, "--untrained", "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert "cnn takes one image file" in err


def test_distance_on_a_file_says_it_is_not_a_folder(tmp_path, capsys, no_model_load):
    code = main(["distance", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--out", str(tmp_path / "o")])
    err = one_line_error(capsys, code)
    assert f"{SAMPLES / 'cat.jpg'}: is a file, not a folder" in err


@pytest.mark.parametrize("command", ["models", "analyze"])
def test_weights_dir_that_is_not_a_folder(command, tmp_path, capsys, no_model_load):
    """A mistyped --weights-dir used to be ignored: the registry was listed, or 'no weights in folder X'."""
    args = ["models"] if command == "models" else ["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--out",
                                                   str(tmp_path / "o")]
    for folder, says in ((tmp_path / "nowhere", "no such folder"), (SAMPLES / "cat.jpg", "is a file, not a folder")):
        err = one_line_error(capsys, main([*args, "--weights-dir", str(folder)]))
        assert f"--weights-dir {folder}: {says}" in err


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
@pytest.mark.parametrize("where", ["folder", "sub-folder"])
def test_distance_on_a_folder_it_cannot_list(where, shared_tmp, capsys):
    """os.walk passes over an unlistable folder in silence: 'holds no images', or a mean over fewer images."""
    folder = shared_tmp / "photos"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / "cat.jpg", folder / "cat.jpg")
    shutil.copy(SAMPLES / "cat.jpg", folder / "sub" / "cat.jpg")
    locked = folder if where == "folder" else folder / "sub"
    locked.chmod(0o300)  # no listing
    with unprivileged():
        code = main(["distance", str(folder), "--model", TINY, "--untrained", "--device", "cpu", "--workers", "0",
                     "--quiet", "--out", str(shared_tmp / "o")])
    err = one_line_error(capsys, code)
    assert f"{locked}: cannot list the folder (Permission denied)" in err


def test_distance_out_cannot_be_the_image_folder(tmp_path, capsys, no_model_load):
    """Its plot, written there, would have been counted as an image by the next run."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SAMPLES / "cat.jpg", folder / "cat.jpg")
    err = one_line_error(capsys, main(["distance", str(folder), "--model", TINY, "--untrained", "--out",
                                       str(folder) + "/."]))
    assert "is the image folder itself" in err
    assert sorted(p.name for p in folder.iterdir()) == ["cat.jpg"]


@pytest.mark.parametrize("command, extra, says", [
    ("analyze", ["--faithfulness", "--faithfulness-steps", "0"], "--faithfulness-steps 0 must be at least 1"),
    ("cnn", ["--faithfulness", "--faithfulness-steps", "-3"], "--faithfulness-steps -3 must be at least 1"),
    ("distance", ["--save-every", "nan"], "--save-every nan must be a number of seconds"),
    ("distance", ["--save-every", "-1"], "--save-every -1 must be a number of seconds"),
    ("distance", ["--batch-size", "0"], "batch size must be at least 1"),
])
def test_impossible_options_are_found_before_the_model_runs(command, extra, says, tmp_path, capsys, no_model_load):
    source = str(SAMPLES) if command == "distance" else str(SAMPLES / "cat.jpg")
    model = CNN if command == "cnn" else TINY
    err = one_line_error(capsys, main([command, source, "--model", model, "--untrained", *extra,
                                       "--out", str(tmp_path / "o")]))
    assert says in err
