"""The dashboard as a class uses it: a second and a third session on caches the first one filled, a
setting toggled away and back, a page after another page, and links a stranger wrote.

Every test here starts more than one session in this process, whose Streamlit caches persist across
sessions as they do on a server (AppTest sessions share ``st.cache_*`` with each other).
"""
import pytest

from apptest import new_app, open_page

SAMPLE_SET = "All bundled samples"


def _distance_over_samples(at) -> None:
    open_page(at, "distance")
    at.radio(key="vv_dist_mode").set_value(SAMPLE_SET).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_distance_over_the_samples_works_for_every_session_and_after_a_toggle(weights_dir, monkeypatch):
    """Fig. 7 (right) over the bundled samples: a cached computation that drew its progress bar was
    replayed for the next user and failed (CacheReplayClosureError) — in a second session, after
    "This image" and back, and after another page."""
    first = new_app(weights_dir, monkeypatch)
    _distance_over_samples(first)
    first.radio(key="vv_dist_mode").set_value("This image").run()
    first.radio(key="vv_dist_mode").set_value(SAMPLE_SET).run()
    assert not first.exception and not first.error, (first.exception, [e.value for e in first.error])
    for _ in range(2):  # a second and a third student
        other = new_app(weights_dir, monkeypatch)
        open_page(other, "attention")
        _distance_over_samples(other)
        assert "6 images" in str(other.get("plotly_chart")[-1].proto.spec)


@pytest.mark.parametrize("value", ["1", "true"])
def test_a_presenter_link_is_the_whole_presenter_mode(weights_dir, monkeypatch, value):
    """``?present=true`` is accepted as on by the parameter table; the frame (projector CSS, closed sidebar)
    read ``== "1"`` and gave half a presenter mode."""
    at = new_app(weights_dir, monkeypatch, present=value)
    assert at.toggle(key="vv_present").value is True
    assert any("font-size: 19px" in h.proto.body for h in at.get("html"))
