"""vitviz dashboard entry point: ``streamlit run app/vitviz_app.py``.

This file is the frame around every page: page config and navigation (each page has its own URL,
so a link opens the same view). Each page draws the shared sidebar with :func:`appstate.selection`.
"""
from pathlib import Path

import streamlit as st

import appstate  # noqa: F401  imported here, once, before any page: it imports the heavy modules

HERE = Path(__file__).parent

st.set_page_config(page_title="vitviz — inside Vision Transformers", page_icon=":material/search:", layout="wide")

PAGES = [
    st.Page(HERE / "views" / "walkthrough.py", title="Walk-through", icon=":material/route:", default=True, url_path="walkthrough"),
    st.Page(HERE / "views" / "filters.py", title="Embedding filters", icon=":material/grid_view:", url_path="filters"),
    st.Page(HERE / "views" / "position.py", title="Position embeddings", icon=":material/location_on:", url_path="position"),
    st.Page(HERE / "views" / "attention.py", title="Attention", icon=":material/visibility:", url_path="attention"),
    st.Page(HERE / "views" / "distance.py", title="Attention distance", icon=":material/straighten:", url_path="distance"),
    st.Page(HERE / "views" / "cnn.py", title="CNN vs ViT", icon=":material/compare:", url_path="cnn"),
    st.Page(HERE / "views" / "facts.py", title="Model facts", icon=":material/table_chart:", url_path="facts"),
]

page = st.navigation(PAGES)
page.run()
st.sidebar.caption("vitviz · Dosovitskiy et al. 2021, *An Image is Worth 16x16 Words* · models from timm")
