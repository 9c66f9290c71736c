"""Figure titles that stand alone and fit: wrapped into lines for the figure's width, pinned to its top.

Plotly draws a title on one line per ``<br>`` and clips what runs past the figure's edge; it centres a
title in the top margin by default and lifts a pinned title of several lines into the edge. These
helpers (text in, text or layout out; no figure built here) are used by every builder of
:mod:`vitviz.figures.plots` and :mod:`vitviz.figures.paper`.
"""
from __future__ import annotations

import unicodedata
from typing import Optional

import plotly.graph_objects as go

TITLE_SIZE = 18
_TITLE_CHARS = 70  # the default line length of :func:`wrap_chars`, in Latin-character widths
#: Widest a title line is drawn (px): see :func:`wrap_title`.
TITLE_WIDTH = 580
_EM = 0.52  # average advance of a Latin character, in em, in the sans-serif fonts figures are drawn in


def text_width(text: str) -> int:
    """Width in Latin-character units: a Hangul or CJK character is drawn about twice as wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


#: Where a long title line breaks, strongest first, each outside brackets (then, last, any space); the
#: separator's mark stays at the end of the line (``"… ·"``, ``"… —"``, ``"…:"``, ``"…,"``), so joining the
#: lines with spaces gives the title back.
_BREAKS = (" · ", " — ", ": ", ", ", " ")


def _split_outside(line: str, sep: str, anywhere: bool = False) -> list[str]:
    """``line.split(sep)``, but only at separators outside brackets (unless ``anywhere``)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(line):
        ch = line[i]
        depth += (ch in "([") - (ch in ")]")
        if (depth <= 0 or anywhere) and line.startswith(sep, i):
            parts.append(line[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    return parts + [line[start:]]


def _wrap_line(line: str, chars: int, level: int = 0) -> list[str]:
    """One line (no ``<br>``) as lines of at most ``chars`` widths, broken at the strongest separator it has."""
    if text_width(line) <= chars or level > len(_BREAKS):
        return [line]
    sep = _BREAKS[min(level, len(_BREAKS) - 1)]
    parts = _split_outside(line, sep, anywhere=level == len(_BREAKS))
    if len(parts) == 1:
        return _wrap_line(line, chars, level + 1)
    pieces = [p + sep.rstrip() for p in parts[:-1]] + [parts[-1]]  # sep == sep.rstrip() + " "
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and text_width(current) + 1 + text_width(piece) <= chars:
            current = f"{current} {piece}"
            continue
        sub = _wrap_line(piece, chars, level + 1)  # a piece too long on its own breaks at a weaker separator
        if current and len(sub) > 1 and text_width(current) + 1 + text_width(sub[0]) <= chars:
            sub[0] = f"{current} {sub[0]}"  # its first line still fits after the line so far
        elif current:
            lines.append(current)
        lines += sub[:-1]
        current = sub[-1]
    return lines + [current]


def wrap_chars(title: str, chars: int = _TITLE_CHARS) -> str:
    """Break a long title so no line runs past ``chars`` Latin-character widths: at its " · " separators
    first, then at " — ", ": ", ", " and last at spaces; existing ``<br>`` breaks stay."""
    if not title:
        return title
    return "<br>".join(out for line in title.split("<br>") for out in _wrap_line(line, chars))


def title_chars(width: float, size: float = TITLE_SIZE) -> int:
    """How many Latin-character widths of a title at ``size`` px fit in ``width`` px (Hangul counts 2)."""
    return max(16, int(width / (_EM * size)))


def wrap_title(title: str, width: Optional[float] = None, size: float = TITLE_SIZE, *,
               widest: float = TITLE_WIDTH) -> str:
    """A figure title broken into lines that fit a figure ``width`` px wide, at ``size`` px type.

    Every builder here (and :mod:`vitviz.figures.paper`'s) wraps its title with this, so a title never runs
    past its figure's edge, where plotly clips it. Lines are at most :data:`TITLE_WIDTH` px (the
    figure's own ``width`` when narrower, e.g. a figure for half a page): a wrapped title then also
    fits a phone, where the app draws titles at 11 px (``LAYOUT_CSS``), and stays clear of plotly's
    toolbar at the figure's top right on a desktop. Breaks fall at the title's " · " separators
    first, then " — ", ": ", ", ", spaces; Hangul counts twice a Latin letter's width.
    ``wrap_title("Fig. 1 (model overview) for ViT-B/16 — P = 16, 14 × 14 = 196 patches at 224 × 224 px, "
    "L = 12, D = 768, 12 heads", size=15)`` gives two lines broken after the dash.
    """
    limit = widest if not width else min(float(width), widest)
    return wrap_chars(title, title_chars(limit, size))


def rewrap_title(fig: go.Figure, width: float) -> go.Figure:
    """Wrap ``fig``'s title again (in place) for a figure known to be shown ``width`` px wide, lines as wide as
    that (e.g. a projector's 1280 px, where the phone-safe :data:`TITLE_WIDTH` makes needless lines); the top
    margin follows. Breaks :func:`wrap_title` put in are taken out first (joined with a space)."""
    old = fig.layout.title.text or ""
    if not old:
        return fig
    size = fig.layout.title.font.size or TITLE_SIZE
    new = wrap_title(old.replace("<br>", " "), width, size, widest=width)
    margin = fig.layout.margin.t if fig.layout.margin.t is not None else title_top(old, size)
    fig.update_layout(title=title_layout(new, size), margin=dict(t=margin + title_top(new, size) - title_top(old, size)))
    return fig


def title_top(title: str, size: float = TITLE_SIZE) -> int:
    """Top margin (px) that holds ``title`` (its ``<br>`` lines at ``size`` px) pinned to the figure's top."""
    return int(round(16 + _title_pad(title, size) - 10 + 1.45 * size * (title.count("<br>") + 1))) if title else 10


def _title_pad(title: str, size: float) -> int:
    """Space (px) above a title pinned to the top: plotly.js lifts a title of several lines by about a line
    when ``yanchor="top"`` (its first line was cut off at the figure's edge), so those get that much more."""
    return 10 + (int(round(0.9 * size)) if "<br>" in title else 0)


def title_layout(title: str, size: float = TITLE_SIZE) -> dict:
    """Plotly ``layout.title`` for an already wrapped title: left-aligned and pinned to the figure's top,
    its lines going down into the top margin (:func:`title_top`), so it never overlaps the plot area
    (plotly centres a title in the margin by default, and a title of three lines ran into the plot)."""
    return dict(text=title or None, font=dict(size=size), x=0.01, xanchor="left", yref="container", y=1,
                yanchor="top", pad=dict(t=_title_pad(title or "", size)))
