"""Position-embedding similarity (paper Fig. 7 centre)."""
import streamlit as st

import compute
import params
from vitviz import plots
from vitviz.export import grid_csv
from widgets import clicked_point, current, fit, fragment, header, show_figure, title

EXPLANATION = ("Each tile belongs to one input patch (row, column) and shows the cosine similarity of its position "
               "embedding to every other position's (prefix tokens left out). In the paper's Fig. 7 (centre, "
               "ViT-L/32) nearby patches have similar embeddings and rows/columns share structure: the model learned "
               "the 2-D layout from data. Click a tile to see it large. At a non-native input size the embeddings "
               "are resampled as the model does.")


def pick_tile(event, grid) -> None:
    """A click on a tile (grid picker trace) selects that tile."""
    try:
        points = event.selection.points or []
    except AttributeError:
        return
    for point in points:
        try:
            row, col = plots.picked_tile(point, grid)
        except (KeyError, IndexError):
            continue
        if (row, col) != (st.session_state.get("vv_pos_row"), st.session_state.get("vv_pos_col")):
            st.session_state["_vv_pos_pick"] = (row, col)
            st.rerun(scope="fragment")


@fragment
def tiles(sel) -> None:
    result = compute.analysis(sel)
    sim = result.static.pos_similarity
    if sim is None:
        st.warning("This model has no learned absolute position embeddings.")
        return
    gh, gw = sim.shape[:2]
    picked = st.session_state.pop("_vv_pos_pick", None)
    if picked is not None:
        st.session_state["vv_pos_row"], st.session_state["vv_pos_col"] = picked
    row = params.prepare("row", gh // 2, lambda v: 0 <= v < gh)
    col = params.prepare("col", gw // 2, lambda v: 0 <= v < gw)
    note = "" if sel.pretrained else " (random init: no structure expected)"
    # The tile grid is the page's figure: full width (≥ 600 px plot area), the chosen tile below it.
    fig = plots.similarity_tiles(sim, title(sel, "Position embedding similarity", f"{gh}×{gw} tiles of {gh}×{gw}{note}"),
                                 selected=(row, col))
    event = show_figure(fit(fig, sel, 460), "position-tiles", sel, on_select=True,
                        npz=lambda: {"pos_embed_similarity": sim})
    pick_tile(event, (gh, gw))
    controls, large = st.columns([1, 2])
    with controls:
        st.markdown("**One input patch, large**")
        st.caption("Click a tile above or in the large view, or set row and column (0-based).")
        row = int(st.number_input("Row", 0, gh - 1, key="vv_pos_row", persist_state="session"))
        col = int(st.number_input("Column", 0, gw - 1, key="vv_pos_col", persist_state="session"))
        params.publish("row", row, gh // 2)
        params.publish("col", col, gw // 2)
    with large:
        fig = plots.similarity_tile(sim, row, col, title(sel, f"Input patch ({row}, {col})", "similarity to all"))
        trace = plots.add_patch_picker(fig, (gh, gw), values=sim[row, col], value_name="similarity")
        event = show_figure(fig, "position-tile", sel, on_select=True, csv=lambda: grid_csv(sim[row, col]))
    point = clicked_point(event, trace)
    if point is not None and plots.tile_at(point, (gh, gw)) != (row, col):
        st.session_state["_vv_pos_pick"] = plots.tile_at(point, (gh, gw))
        st.rerun(scope="fragment")

sel = current()
header("Position embeddings", EXPLANATION, sel)
if sel is not None:
    tiles(sel)
