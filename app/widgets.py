"""Figure widgets: a plotly figure or a map picture with its title, alt text and downloads (PNG, CSV, NPZ).
"""
from __future__ import annotations

import html
import re
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import streamlit as st

from vitviz_dashboard import selection
from vitviz.figures import plots
from vitviz.export import file_stem, grid_csv, matrix_csv, npz_bytes
from vitviz.text.i18n import t
from vitviz.figures.map_pictures import map_picture, peak_text, picture_png
from vitviz_dashboard.map_view import map_view
from vitviz_dashboard.frame import PRESENTER_HEIGHT, two_line


PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def show_figure(fig, key: str, sel: Optional[selection.Selection] = None, *,
                npz: Optional[Callable[[], Mapping[str, np.ndarray]]] = None,
                csv: Optional[Callable[[], str]] = None, on_select: bool = False, height: Optional[int] = None,
                alt: str = ""):
    """A plotly figure with PNG export (camera button), lazy CSV/NPZ downloads named after the model, and a
    text alternative for screen readers: the figure's title, ``alt`` (what it shows, in words) and where its
    data is."""
    stem = figure_stem(key, sel)
    config = {**PLOT_CONFIG, "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": stem}}
    extra = {"height": height} if height else {}
    if fig.layout.width:  # a figure laid out for its width (small multiples) keeps it: panels stay square
        extra["width"] = "content"
    # The text alternative is the chart's accessible name (role="figure", aria-label): no extra element to redraw.
    event = st.plotly_chart(fig, key=key, config=config, on_select="rerun" if on_select else "ignore",
                            selection_mode="points", alt=alt_text(fig.layout.title.text or "", alt, npz is not None or csv is not None),
                            **extra)
    data_row(key, stem, npz=npz, csv=csv)
    return event


def figure_stem(key: str, sel: Optional[selection.Selection]) -> str:
    """A figure's download file name without extension: what it is and the model it shows."""
    return file_stem(key, sel.short_label if sel else "", "untrained" if sel and sel.untrained else "")


def data_row(key: str, stem: str, alt: str = "", *, npz: Optional[Callable[[], Mapping[str, np.ndarray]]] = None,
             csv: Optional[Callable[[], str]] = None, png: Optional[Callable[[], bytes]] = None) -> None:
    """Under a figure: its NPZ / CSV / PNG downloads (built lazily), and ``alt``, a text alternative for
    screen readers only, for a figure that carries none itself."""
    row = st.container(horizontal=True, gap="small")
    if alt:
        row.html(f'<p class="vv-alt">{html.escape(alt)}</p>')
    if png is not None:
        row.download_button("PNG", icon=":material/download:", help=t("ui.png_help"), data=png,
                            file_name=f"{stem}.png", mime="image/png", key=f"{key}-png", on_click="ignore")
    if npz is not None:
        row.download_button("NPZ", icon=":material/download:", help=t("ui.npz_help"),
                            data=lambda: npz_bytes(npz()), file_name=f"{stem}.npz",
                            mime="application/octet-stream", key=f"{key}-npz", on_click="ignore")
    if csv is not None:
        row.download_button("CSV", icon=":material/download:", help=t("ui.csv_help"),
                            data=lambda: csv().encode(), file_name=f"{stem}.csv", mime="text/csv",
                            key=f"{key}-csv", on_click="ignore")


def show_map(key: str, sel: selection.Selection, display_shape, picture: str, top: float, grid_map: np.ndarray,
             fig_title: str, value_name: str, *, npz: Callable[[], Mapping[str, np.ndarray]],
             marked: Sequence[tuple[int, int]] = (), pickable: bool = False, max_height: Optional[int] = None,
             alt: str = "", patch_label: str = "", presenter_height: int = PRESENTER_HEIGHT - 90) -> Optional[int]:
    """A map picture (``vitviz.figures.map_pictures.map_picture`` over an image of ``display_shape``, shown by
    app/map_view.py) with its text alternative (``alt``, default: where ``grid_map`` peaks) and PNG / NPZ /
    CSV downloads; ``marked`` patches get the sink frame; the read-out names a cell ``patch_label``
    (default "patch"); ``presenter_height`` caps the picture's height in presenter mode (a page with more
    controls above its maps passes less). Returns the clicked patch when ``pickable``."""
    point = map_view(key, picture, grid_map, display_shape, title=fig_title, top=top, value_name=value_name,
                     alt=alt_text(fig_title, alt or peak_text(grid_map), True), marked=marked,
                     marked_label=t("plot.sink"), patch_label=patch_label or t("plot.patch"),
                     click_label=t("plot.click_to_select") if pickable else "",
                     max_height=presenter_height if sel.presenter else max_height)
    data_row(key, figure_stem(key, sel), npz=npz, csv=lambda: grid_csv(grid_map), png=lambda: picture_png(picture))
    return point


def show_grad_cam(key: str, sel: selection.Selection, display: np.ndarray, cam, fig_title: str, *, alt: str,
                  max_height: Optional[int] = None, presenter_height: int = PRESENTER_HEIGHT - 90) -> None:
    """A Grad-CAM (``vitviz.run.explain.GradCAM``) over the image as a picture, like a ViT's maps: the picture
    from the full-resolution map, the read-out and the CSV per stage cell (:meth:`GradCAM.cell_means`)."""
    picture, top = map_picture(cam.map, display, (1, 1))
    show_map(key, sel, display.shape, picture, top, cam.cell_means(), fig_title, "Grad-CAM",
             npz=lambda: {"map": cam.map, "coarse": cam.coarse}, max_height=max_height, alt=alt,
             patch_label=t("plot.cell"), presenter_height=presenter_height)


def depth_comparison_view(sel: selection.Selection, comp, vit_name: str, cnn_name: str, key: str, *,
                          two_lines: bool = False) -> None:
    """The ViT's attention distance per head next to the CNN's receptive-field radius on relative depth
    (:func:`vitviz.figures.plots.depth_comparison_figure`), its downloads and its one-line summary."""
    fig_title = t("cnn.versus_title", vit=vit_name, cnn=cnn_name)
    fig = plots.depth_comparison_figure(comp, vit_name, cnn_name,
                                        title=two_line(fig_title) if two_lines else fig_title)
    first = comp.vit_heads[0]
    summary = t("cnn.versus_summary", lo=f"{first.min():.0f}", hi=f"{first.max():.0f}",
                radius=f"{comp.cnn_theoretical_radius[0]:.0f}")
    show_figure(fig, key, sel, alt=summary,
                npz=lambda: {"vit_depth": comp.vit_depth, "vit_heads": comp.vit_heads,
                             "cnn_layer_depth": comp.cnn_layer_depth, "cnn_layer_radius": comp.cnn_layer_radius,
                             "cnn_stage_depth": comp.cnn_stage_depth, "cnn_effective_radius": comp.cnn_effective_radius},
                csv=lambda: matrix_csv(np.stack([comp.cnn_layer_depth, comp.cnn_layer_radius], 1),
                                       ["relative_depth", "theoretical_rf_radius_px"], "layer"))
    st.caption(summary)


def alt_text(title: str, alt: str = "", has_data: bool = False) -> str:
    """A figure in words: its title (markup removed), what it shows, and where its data can be downloaded."""
    title = re.sub(r"<[^>]+>", " ", title).replace("  ", " ").strip()
    parts = [t("ui.alt_figure", title=title) if title else "", alt, t("ui.alt_data") if has_data else ""]
    return " ".join(p for p in parts if p)
