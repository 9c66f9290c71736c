"""Position-embedding similarity (paper Fig. 7 centre)."""
import streamlit as st

from appstate import (analysis, apply_pick, clicked_point, grid_csv, guarded, header, int_input, selection,
                      show_figure)
from vitviz import plots

header("Position embeddings",
       "Each tile belongs to one patch position and shows the cosine similarity of its position embedding to every "
       "other position's (prefix tokens left out). Neighbours come out similar and rows/columns share structure: the "
       "model learned the 2-D layout from data. At a non-native input size the embeddings are resampled as the model does.")


def render(sel) -> None:
    result = analysis(sel)
    sim = result.static.pos_similarity
    if sim is None:
        st.warning("This model has no learned absolute position embeddings.")
        return
    gh, gw = sim.shape[:2]
    show_figure(plots.similarity_tiles(sim, f"{gh}×{gw} tiles of {gh}×{gw} similarities"), "pos-tiles",
                npz=lambda: {"pos_embed_similarity": sim})
    st.subheader("One position, large")
    st.caption("Click a cell, or set row and column.")
    apply_pick("vv_pos_pick", ("vv_pos_row", "vv_pos_col"))
    a, b = st.columns(2)
    row = int_input(a, "Row", 0, gh - 1, gh // 2, "vv_pos_row")
    col = int_input(b, "Column", 0, gw - 1, gw // 2, "vv_pos_col")
    fig = plots.similarity_tile(sim, int(row), int(col), f"similarity of position ({row}, {col}) to all positions")
    trace = plots.add_patch_picker(fig, (gh, gw), values=sim[int(row), int(col)], value_name="similarity")
    event = show_figure(fig, "pos-tile", on_select=True,
                        csv=lambda: grid_csv(sim[int(row), int(col)]))
    picked = clicked_point(event, trace)
    if picked is not None and divmod(picked, gw) != (row, col):
        st.session_state["vv_pos_pick"] = divmod(picked, gw)
        st.rerun()


sel = selection("position")
if sel is not None:
    with guarded():
        render(sel)
