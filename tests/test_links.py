"""Every view setting survives a link: set it with its control, read the URL, open that URL in a new
session (as a student who gets the link does), and read the control back. One row per parameter of the
README's table that a control sets; the sidebar's and the older pages' settings have their own tests
(test_app.py, test_browser.py)."""
import pytest

from apptest import new_app, open_page

# page, URL parameter, widget kind, widget key, value to set, other URL values the control needs on screen
CASES = [
    ("attention", "opacity", "slider", "vv_opacity", 0.35, {}),
    ("walkthrough", "wpatch", "number_input", "vv_patch", 7, {"step": "3"}),
    ("walkthrough", "illus", "select_slider", "vv_illus", 56, {"step": "2"}),
    ("filters", "filters", "radio", "vv_filter_view", "raw", {}),
    ("filters", "count", "slider", "vv_filter_count", 21, {"filters": "raw"}),
    ("distance", "images", "radio", "vv_dist_mode", "samples", {}),
    ("cnn", "cnnuntrained", "checkbox", "vv_cnn_untrained", True, {}),
]


def widget(at, kind: str, key: str):
    return getattr(at, kind)(key=key)


@pytest.mark.parametrize("page,name,kind,key,value,context", CASES, ids=[c[1] for c in CASES])
def test_a_setting_travels_in_the_link(weights_dir, monkeypatch, page, name, kind, key, value, context):
    lecturer = new_app(weights_dir, monkeypatch, **context)
    open_page(lecturer, page)
    widget(lecturer, kind, key).set_value(value).run()
    assert not lecturer.exception and not lecturer.error
    link = dict(lecturer.query_params)
    assert name in link, link
    student = new_app(weights_dir, monkeypatch, **{k: v[0] if isinstance(v, list) else v for k, v in link.items()})
    open_page(student, page)
    assert widget(student, kind, key).value == value


def test_the_grad_cam_stage_travels_in_the_link(weights_dir, monkeypatch):
    lecturer = new_app(weights_dir, monkeypatch)
    open_page(lecturer, "explain")
    stage = widget(lecturer, "select_slider", "vv_cam_stage")
    earlier = stage.options[len(stage.options) // 2]
    stage.set_value(earlier).run()
    assert lecturer.query_params["camstage"] == earlier
    student = new_app(weights_dir, monkeypatch, camstage=earlier)
    open_page(student, "explain")
    assert widget(student, "select_slider", "vv_cam_stage").value == earlier


def test_compared_models_travel_in_the_link(two_vit_folder, monkeypatch):
    lecturer = new_app(two_vit_folder, monkeypatch, model="vit_small_patch14_dinov2.imgfocus")
    open_page(lecturer, "distance")
    lecturer.multiselect(key="vv_compare").set_value(["tiny16"]).run()
    assert lecturer.query_params["vs"] == "tiny16"
    student = new_app(two_vit_folder, monkeypatch, model="vit_small_patch14_dinov2.imgfocus", vs="tiny16")
    open_page(student, "distance")
    assert student.multiselect(key="vv_compare").value == ["tiny16"]


def test_a_bad_value_in_a_new_parameter_falls_back_with_a_notice(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, opacity="7", images="everything")
    open_page(at, "attention")
    assert at.slider(key="vv_opacity").value == 0.6
    open_page(at, "distance")
    assert at.radio(key="vv_dist_mode").value == "this"
    shown = " ".join(w.value for w in at.warning)
    assert "opacity=7" in shown or "images=everything" in shown
