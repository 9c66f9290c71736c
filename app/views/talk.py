"""Talk: the study group's talk, one slide at a time, for a projector (and the same slides as a .pptx).

The slides are :func:`vitviz.talk.talk_slides` for the sidebar's model and image, in the page's
language (:func:`compute.talk_slides`, in the server's result cache). ``?slide=N`` (1-based) is in
the link; Back / Next answer PageUp / PageDown (what a presentation clicker sends), the hidden ◀ / ▶
buttons the arrow keys. The page hides Streamlit's chrome (toolbar, Deploy button, ⋮ menu, header, sidebar):
at 1280×720 one slide, its takeaway and the controls fill the screen without scrolling.
"""
import base64
import html
import re

import streamlit as st

from vitviz.text import i18n
from vitviz.text.i18n import t
from vitviz.figures.report import table_html
from vitviz.talk import ORDER
from vitviz_dashboard import compute, params
from vitviz_dashboard.frame import current, fragment

# The slide fills the viewport above the control row (CONTROLS px); the picture takes what the title,
# takeaway and source leave. Figure text is ≥ 30 px in the picture (vitviz.talk.raster.MIN_TEXT): at
# 1280×720 the picture shows 1232 px wide of 1840, so the text shows at ≥ 20 px.
CONTROLS = 58
CSS = """<style>
  html { font-size: 16px !important; }  /* presenter mode's 19 px would push the controls below 720 px */
  [data-testid="stToolbar"], [data-testid="stHeader"], header, [data-testid="stSidebar"],
  [data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stAppDeployButton"], [data-testid="stMainMenu"] { display: none !important; }
  [data-testid="stMainBlockContainer"] { padding: 0.5rem 1.5rem 0 1.5rem !important; max-width: 100% !important; }
  [data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.35rem; }
  .vv-slide { height: calc(100vh - CONTROLSpx); display: flex; flex-direction: column; overflow: hidden; }
  .vv-slide h2 { font-size: 30px; line-height: 1.2; margin: 0 0 0.3rem 0; padding: 0; font-weight: 700; }
  .vv-slide-body { flex: 1 1 auto; min-height: 0; display: flex; align-items: center; justify-content: center; }
  .vv-slide-body img { max-width: 100%; max-height: 100%; object-fit: contain; }
  .vv-slide-body table { border-collapse: collapse; font-size: inherit; font-variant-numeric: tabular-nums; }
  .vv-slide-body th, .vv-slide-body td { border: 1px solid #c8ccd2; padding: 5px 12px; text-align: left; }
  .vv-slide-body thead th { background: #1f4e79; color: #fff; }
  .vv-slide-body tr.highlight td { background: #fff3cd; font-weight: 700; }
  .vv-slide .vv-takeaway { font-size: 22px; line-height: 1.3; margin: 0.35rem 0 0 0; }
  .vv-slide .vv-source { font-size: 16px; color: #55585f; margin: 0.15rem 0 0 0; }
  .st-key-vv-talk-keys { position: absolute; left: -10000px; top: 0; height: 1px; overflow: hidden; }
</style>""".replace("CONTROLS", str(CONTROLS))


def _move(delta: int) -> None:
    st.session_state["vv_slide"] = min(max(int(st.session_state.get("vv_slide", 1)) + delta, 1), len(ORDER))


def slide_html(slide) -> str:
    """One slide as HTML: title, the picture (inline PNG) or the table, the takeaway and the source."""
    if slide.picture is not None:
        body = (f'<img alt="{html.escape(slide.title, quote=True)}" '
                f'src="data:image/png;base64,{base64.b64encode(slide.picture).decode()}">')
    else:  # a short table in larger type
        size = 26 if len(slide.table.rows) <= 6 and len(slide.table.columns) <= 6 else 20
        body = f'<div style="font-size:{size}px">{table_html(slide.table)}</div>'
    return (f'<div class="vv-slide" data-slide="{html.escape(slide.key)}"><h2>{html.escape(slide.title)}</h2>'
            f'<div class="vv-slide-body">{body}</div><p class="vv-takeaway">{html.escape(slide.takeaway)}</p>'
            f'<p class="vv-source">{html.escape(t("talk.source", source=slide.source))}</p></div>')


def deck_name(sel, lang: str) -> str:
    return "talk-" + re.sub(r"[^A-Za-z0-9._-]+", "-", sel.model) + f"-{lang}.pptx"


@fragment
def talk(sel) -> None:
    lang = i18n.language()
    with st.spinner(t("talk.building", model=sel.short_label)):  # outside the cache: a cached function never draws
        slides = compute.talk_slides(sel, lang)
    n = params.prepare("slide", 1, lambda v: 1 <= v <= len(slides))
    st.html(slide_html(slides[n - 1]))
    back, where, forward, download, leave = st.columns([2, 2, 2, 3, 2], vertical_alignment="center")
    back.button(t("talk.back"), on_click=_move, args=(-1,), key="vv_talk_back", width="stretch", shortcut="PageUp",
                disabled=n == 1)
    where.html(f"<div style='text-align:center;font-size:18px'>{html.escape(t('talk.slide_of', n=n, total=len(slides)))}"
               "</div>")
    forward.button(t("talk.next"), on_click=_move, args=(1,), key="vv_talk_next", width="stretch",
                   shortcut="PageDown", type="primary", disabled=n == len(slides))
    download.download_button(t("talk.download"), data=lambda: compute.talk_pptx(sel, lang),
                             file_name=deck_name(sel, lang), on_click="ignore", width="stretch",
                             mime="application/vnd.openxmlformats-officedocument.presentationml.presentation")
    leave.page_link("views/walkthrough.py", label=t("talk.exit"), icon=":material/logout:")  # the sidebar is hidden here
    with st.container(key="vv-talk-keys"):  # the arrow keys: buttons off screen, still answering their shortcut
        st.button("◀", on_click=_move, args=(-1,), key="vv_talk_left", shortcut="Left")
        st.button("▶", on_click=_move, args=(1,), key="vv_talk_right", shortcut="Right")
    params.publish("slide", n, 0)  # always in the link, 1 included: the lecturer's URL names the slide


st.html(CSS)
sel = current()
if sel is not None:
    talk(sel)
