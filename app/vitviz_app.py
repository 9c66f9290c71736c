"""vitviz dashboard entry script, served by ``streamlit run app/serve.py`` (with its start-up warm-up) or on
its own by ``streamlit run app/vitviz_app.py``.

The frame around every page, as Streamlit documents for ``st.navigation`` apps: page config,
the shared sidebar drawn once (one :class:`selection.Selection` per run), navigation, then the
page. Pages read the selection with :func:`current`; every view setting is in the URL
(:mod:`params`), so a copied link reopens the same view.
"""
from __future__ import annotations

from pathlib import Path

import pandas  # noqa: F401  imported once before sessions start: concurrent first imports raced
import plotly.graph_objects  # noqa: F401
import streamlit as st

from vitviz.text import i18n
from vitviz.text.i18n import t
from vitviz_dashboard import caches, guard, frame, params, sidebar

HERE = Path(__file__).resolve().parent
params.read_link()
i18n.set_language(sidebar.language_from_link())  # texts and figure labels of this run
# The link's own parser (1/true/0/false), not a second rule: ?present=true is presenter mode too.
presenter = bool(st.session_state.get("vv_present", params.link_value("present", False)))
st.set_page_config(page_title=t("app.page_title"), page_icon=":material/search:", layout="wide",
                   initial_sidebar_state="collapsed" if presenter else "auto")
st.html(frame.LAYOUT_CSS)  # phones and tablets: compact controls, stepper in thumb reach, captions folded
if presenter:  # larger type and less chrome for a projector; figures size themselves (widgets.show_figure)
    st.html("""<style>
      html { font-size: 19px; }
      [data-testid="stMainBlockContainer"] { padding-top: 3.9rem; padding-bottom: 1rem; max-width: 100%; }
      h1 { font-size: 1.7rem !important; padding: 0 !important; }
      [data-testid="stVerticalBlock"] { gap: 0.6rem; }
      /* No Streamlit chrome on the projector: the Deploy button and the ⋮ menu go (the sidebar's » stays). */
      [data-testid="stAppDeployButton"], [data-testid="stMainMenu"] { display: none !important; }
    </style>""")
frame.preload_plotly()  # before the sidebar and page wait on torch and the model

PAGES = [
    st.Page(HERE / "views" / "walkthrough.py", title=t("nav.walkthrough"), icon=":material/route:", default=True),
    st.Page(HERE / "views" / "encoder.py", title=t("nav.encoder"), icon=":material/account_tree:", url_path="encoder"),
    st.Page(HERE / "views" / "filters.py", title=t("nav.filters"), icon=":material/grid_view:", url_path="filters"),
    st.Page(HERE / "views" / "position.py", title=t("nav.position"), icon=":material/location_on:",
            url_path="position"),
    st.Page(HERE / "views" / "attention.py", title=t("nav.attention"), icon=":material/visibility:",
            url_path="attention"),
    st.Page(HERE / "views" / "matrix.py", title=t("nav.matrix"), icon=":material/grid_on:", url_path="matrix"),
    st.Page(HERE / "views" / "distance.py", title=t("nav.distance"), icon=":material/straighten:",
            url_path="distance"),
    st.Page(HERE / "views" / "tokens.py", title=t("nav.tokens"), icon=":material/palette:", url_path="tokens"),
    st.Page(HERE / "views" / "explain.py", title=t("nav.explain"), icon=":material/psychology_alt:",
            url_path="explain"),
    st.Page(HERE / "views" / "compare.py", title=t("nav.compare"), icon=":material/difference:",
            url_path="compare"),
    st.Page(HERE / "views" / "cnn.py", title=t("nav.cnn"), icon=":material/compare:", url_path="cnn"),
    st.Page(HERE / "views" / "paper.py", title=t("nav.paper"), icon=":material/article:", url_path="paper"),
    st.Page(HERE / "views" / "facts.py", title=t("nav.facts"), icon=":material/table_chart:", url_path="facts"),
    st.Page(HERE / "views" / "talk.py", title=t("nav.talk"), icon=":material/slideshow:", url_path="talk"),
]

page = st.navigation(PAGES, expanded=True)  # all fourteen pages listed, not the first ten and "View more"
notices = st.container()
chosen = None
with guard.guarded():
    chosen = sidebar.draw()
st.session_state["_vv_selection"] = chosen
st.sidebar.caption(t("app.footer"))
st.sidebar.caption(t("sidebar.budgets", results=frame.mib(caches.cache_budget()),
                     models=frame.mib(caches.model_budget())))
with guard.guarded():  # a page's error: one line and an error id; the traceback goes to the log
    page.run()
params.show_notices(notices)
