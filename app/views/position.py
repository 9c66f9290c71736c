"""Position-embedding similarity (paper Fig. 7 centre)."""
import streamlit as st

from vitviz_dashboard import compute, params
from vitviz.figures import plots
from vitviz.export import grid_csv
from vitviz.text.i18n import t
from vitviz_dashboard.controls import clicked_point
from vitviz_dashboard.frame import current, fit, fragment, header, title
from vitviz_dashboard.widgets import show_figure


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


def phone_trim(fig) -> str:
    """CSS for phones: the tile grid is as wide as the screen and keeps to the top of its figure, drawn for a
    desktop (≥ 600 px square); the chart is cut just below the grid's axis instead of ending in an empty band.
    The grid's side is the screen's width less the page padding (24 px) and the side margins."""
    m = fig.layout.margin
    below = 30 + 64  # the toolbar strip above the chart (LAYOUT_CSS), the column numbers and axis title below
    offset = int(m.t + below - 24 - m.l - m.r)
    return (f"<style>@media (max-width: 640px) {{ .st-key-vv-position-tiles [data-testid='stFullScreenFrame'] {{ "
            f"margin-top: 0; padding-top: 30px; box-sizing: border-box; height: auto !important; "
            f"max-height: calc(100vw + {offset}px); overflow: hidden; }} }}</style>")


@fragment
def tiles(sel) -> None:
    result = compute.analysis(sel)
    sim = result.static.pos_similarity
    if sim is None:
        st.warning(t("position.none"))
        return
    gh, gw = sim.shape[:2]
    picked = st.session_state.pop("_vv_pos_pick", None)
    if picked is not None:
        st.session_state["vv_pos_row"], st.session_state["vv_pos_col"] = picked
    row = params.prepare("row", gh // 2, lambda v: 0 <= v < gh)
    col = params.prepare("col", gw // 2, lambda v: 0 <= v < gw)
    note = "" if sel.pretrained else t("position.random_note")
    # The tile grid is the page's figure: full width (≥ 600 px plot area), the chosen tile below it.
    fig = plots.similarity_tiles(sim, title(sel, t("position.fig_title"), t("position.tiles", gh=gh, gw=gw) + note),
                                 selected=(row, col))
    if not sel.presenter:
        st.html(phone_trim(fig))
    with st.container(key="vv-position-tiles"):
        event = show_figure(fit(fig, sel, 460), "position-tiles", sel, on_select=True,
                            npz=lambda: {"pos_embed_similarity": sim}, alt=t("position.tiles_alt", gh=gh, gw=gw))
    pick_tile(event, (gh, gw))
    pickers, large = st.columns([1, 2])
    with pickers:
        st.markdown(f"**{t('position.one_patch')}**")
        st.caption(t("position.pick_help"))
        row = int(st.number_input(t("position.row0"), 0, gh - 1, key="vv_pos_row", persist_state="session"))
        col = int(st.number_input(t("position.col0"), 0, gw - 1, key="vv_pos_col", persist_state="session"))
        params.publish("row", row, gh // 2)
        params.publish("col", col, gw // 2)
    with large:
        fig = plots.similarity_tile(sim, row, col, title(sel, t("position.patch_title", row=row, col=col),
                                                         t("position.similarity_to_all")))
        trace = plots.add_patch_picker(fig, (gh, gw), values=sim[row, col], value_name=t("plot.similarity"))
        event = show_figure(fig, "position-tile", sel, on_select=True, csv=lambda: grid_csv(sim[row, col]),
                            alt=t("position.tile_alt", row=row, col=col))
    point = clicked_point(event, trace)
    if point is not None and plots.tile_at(point, (gh, gw)) != (row, col):
        st.session_state["_vv_pos_pick"] = plots.tile_at(point, (gh, gw))
        st.rerun(scope="fragment")

sel = current()
header(t("position.page"), t("position.explanation"), sel)
if sel is not None:
    tiles(sel)
