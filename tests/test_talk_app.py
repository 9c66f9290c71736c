"""The Talk page in Streamlit's AppTest: the slide in the link, Back/Next, the cached slides shared by sessions."""
import re

from apptest import new_app, open_page
from vitviz.talk import ORDER


def _slide(at) -> str:
    """The title of the slide the page shows."""
    body = next(h.proto.body for h in at.get("html") if 'class="vv-slide"' in h.proto.body)
    return re.search(r"<h2>(.*?)</h2>", body).group(1)


def test_talk_page_follows_the_link_and_the_buttons(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, slide="3")
    open_page(at, "talk")
    assert _slide(at).startswith("3. Patch embedding") and "DINOv2 ViT-S/14" in _slide(at)  # the default model
    at.button(key="vv_talk_next").click().run()
    assert _slide(at).startswith("4. ") and at.query_params["slide"] == "4"
    at.button(key="vv_talk_left").click().run()  # the arrow key's button
    assert _slide(at).startswith("3. ")
    # A second session gets the same slides from the server's cache.
    other = new_app(weights_dir, monkeypatch, slide=str(len(ORDER)))
    open_page(other, "talk")
    assert _slide(other).startswith(f"{len(ORDER)}. Significance")
    assert other.button(key="vv_talk_next").disabled and not other.button(key="vv_talk_back").disabled


def test_a_slide_number_out_of_range_falls_back_with_a_notice(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, slide="99")
    open_page(at, "talk")
    assert _slide(at).startswith("1. ")
    assert any("slide=99" in w.value for w in at.warning)
