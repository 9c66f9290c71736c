"""Plotly figures for vitviz results, in one namespace: ``from vitviz.figures import plots``.

Each builder takes arrays/dataclasses and returns a ``plotly.graph_objects.Figure``; no Streamlit here, so
the app, a notebook or a script can show or save them. The builders live by figure family:

- :mod:`vitviz.figures.style` — palettes, the projector title (:func:`figure_title`), layout and patch frames;
- :mod:`vitviz.figures.raster` — the raster core every picture shares (colour tables, PNG/JPEG data URIs, fonts);
- :mod:`vitviz.figures.maps` — the input image, maps over it, patch pickers, token PCA and similarity pictures;
- :mod:`vitviz.figures.embedding_figures` — patch-embedding filters and position-embedding similarities (Fig. 7);
- :mod:`vitviz.figures.charts` — attention distance (Fig. 7 right), ViT vs CNN depth, predictions, vectors,
  deletion/insertion curves;
- :mod:`vitviz.figures.titles` — titles that wrap to a figure's width.

A new figure goes into its family's module and is listed here.
"""
from __future__ import annotations

from vitviz.figures.style import (SEQUENTIAL, SIMILARITY, HEAD_COLOURS, MODEL_SYMBOLS, MODEL_DASHES, HIGHLIGHT, MARK,
                                  REFERENCE, FONT_SIZE, COLOURBAR_ABOVE, HALF_WIDTH, figure_title, finish,
                                  square_axes, legend_right, legend_below, head_style, patch_box, marked_box,
                                  mark_text, patch_hover, patch_heatmap, colour_lut)
from vitviz.figures.maps import (image_figure, add_patch_picker, tile_at, attention_overlay, patch_strip, rgb_figure,
                                 BACKGROUND_RGB, token_pca_figure, token_similarity_figure, tile_images)
from vitviz.figures.embedding_figures import (filters_to_rgb, filters_figure, explained_variance_figure,
                                              similarity_mosaic, similarity_tiles, picked_tile, similarity_tile)
from vitviz.figures.charts import (References, distance_figure, predictions_figure, vector_figure,
                                   token_matrix_figure, depth_comparison_figure, faithfulness_figure)
from vitviz.figures.raster import jpeg_uri, png_uri
from vitviz.figures.titles import rewrap_title, wrap_title

__all__ = [
    "SEQUENTIAL", "SIMILARITY", "HEAD_COLOURS", "MODEL_SYMBOLS", "MODEL_DASHES", "HIGHLIGHT", "MARK",
    "REFERENCE", "FONT_SIZE", "COLOURBAR_ABOVE", "HALF_WIDTH", "figure_title", "finish", "square_axes",
    "legend_right", "legend_below", "head_style", "patch_box", "marked_box", "mark_text", "patch_hover",
    "patch_heatmap", "colour_lut", "image_figure", "add_patch_picker", "tile_at", "attention_overlay",
    "patch_strip", "rgb_figure", "BACKGROUND_RGB", "token_pca_figure", "token_similarity_figure", "tile_images",
    "filters_to_rgb", "filters_figure", "explained_variance_figure", "similarity_mosaic", "similarity_tiles",
    "picked_tile", "similarity_tile", "References", "distance_figure", "predictions_figure", "vector_figure",
    "token_matrix_figure", "depth_comparison_figure", "faithfulness_figure", "jpeg_uri", "png_uri",
    "rewrap_title", "wrap_title",
]
