"""One self-contained HTML file from figures and tables: opens offline, in any browser, with no server.

plotly.js is inlined exactly once (in the first figure); every later figure reuses it. Nothing
is loaded from the web: no ``<script src=http…>``, no CDN, no web fonts, no MathJax. All text
(titles, captions, table cells, labels) is escaped with :func:`html.escape`. Each figure keeps
plotly's camera button, set to save a PNG at twice the on-screen size (for slides); PNG files on
disk are written by :func:`write_report` only when the optional kaleido package is installed.
"""
from __future__ import annotations

import datetime as _dt
import html
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import plotly.graph_objects as go
import plotly.io as pio

#: Plotly config for every embedded figure: PNG export at 2× from the camera button, no logo link.
FIGURE_CONFIG = {"toImageButtonOptions": {"format": "png", "scale": 2}, "displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Table:
    """A plain table: ``columns`` heads, ``rows`` of cells (any value, shown with ``str``).

    ``highlight`` lists row indices to emphasise (e.g. the loaded model's row).
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    highlight: Sequence[int] = ()


@dataclass(frozen=True)
class Section:
    """One heading with a caption and a figure and/or a table (and an optional footnote)."""

    title: str
    caption: str = ""
    figure: Optional[go.Figure] = None
    table: Optional[Table] = None
    footnote: str = ""
    anchor: str = field(default="")


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; color: #1d1d1f; background: #fff;
       line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
.meta { color: #555; margin-top: 0; }
nav ol { columns: 2; color: #333; }
section { margin-top: 2.2em; border-top: 1px solid #ddd; padding-top: 0.6em; }
h2 { font-size: 1.25em; margin-bottom: 0.3em; }
p.caption { margin-top: 0.2em; max-width: 70em; }
p.footnote { font-size: 0.9em; color: #444; }
table { border-collapse: collapse; margin: 0.6em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f2f2f2; }
tr.highlight td { background: #fff3cd; font-weight: 600; }
footer { margin-top: 3em; color: #555; font-size: 0.9em; }
@media print { section { break-inside: avoid; } }
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def table_html(table: Table) -> str:
    """An escaped ``<table>`` (head row, then body rows)."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in table.columns)
    body = []
    for i, row in enumerate(table.rows):
        cls = ' class="highlight"' if i in set(table.highlight) else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


#: The plotly template every exported figure is drawn with. A figure takes plotly's default template
#: when it is built, and inside a Streamlit server that default is Streamlit's own, whose colours are
#: placeholders (#000001, #000002, …) that only Streamlit's page replaces: exported as they were, bars
#: and legends came out black and axes without automargin. The report names its template instead.
REPORT_TEMPLATE = "plotly_white"


def report_figure(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` as the report draws it: with :data:`REPORT_TEMPLATE`, whatever template it was built with."""
    out = go.Figure(fig)
    out.update_layout(template=pio.templates[REPORT_TEMPLATE])
    return out


def figure_html(fig: go.Figure, div_id: str, *, include_plotlyjs: bool) -> str:
    """A figure's ``<div>`` and script (drawn with :data:`REPORT_TEMPLATE`); plotly.js inlined only when
    ``include_plotlyjs``."""
    fig = report_figure(fig)
    return pio.to_html(fig, full_html=False, include_plotlyjs=include_plotlyjs, include_mathjax=False,
                       config=FIGURE_CONFIG, div_id=div_id, default_width="100%",
                       default_height=f"{int(fig.layout.height or 480)}px")


def paper_report_html(title: str, sections: Sequence[Section], *, subtitle: str = "",
                      generated: Optional[_dt.datetime] = None, footer: str = "", lang: Optional[str] = None) -> str:
    """The whole report as one HTML string.

    Args:
        title: page title and heading (name the model, and "(untrained)" when so).
        sections: in order; figures get ids ``fig-1``, ``fig-2``, … in order of appearance.
        subtitle: one line under the title (e.g. input size and images used).
        generated: the time stamp to print (default: now, UTC).
        footer: one closing line (e.g. the citation).
        lang: the page's language (``<html lang>``, the "generated" line); default: the current one
            (:func:`vitviz.text.i18n.language`), the language the titles and captions were built in.
    """
    from vitviz.text.i18n import language, t

    lang = lang or language()
    when = (generated or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip()
    parts = ["<!DOCTYPE html>", f'<html lang="{_esc(lang)}"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>",
             f'<p class="meta">{_esc(subtitle)}{" · " if subtitle else ""}'
             f'{_esc(t("report.generated", lang, when=when))}</p>']
    anchors = [s.anchor or f"section-{i + 1}" for i, s in enumerate(sections)]
    parts.append("<nav><ol>" + "".join(f'<li><a href="#{_esc(a)}">{_esc(s.title)}</a></li>'
                                       for a, s in zip(anchors, sections)) + "</ol></nav>")
    figures = 0
    for anchor, section in zip(anchors, sections):
        parts.append(f'<section id="{_esc(anchor)}"><h2>{_esc(section.title)}</h2>')
        if section.caption:
            parts.append(f'<p class="caption">{_esc(section.caption)}</p>')
        if section.figure is not None:
            figures += 1
            parts.append(figure_html(section.figure, f"fig-{figures}", include_plotlyjs=figures == 1))
        if section.table is not None:
            parts.append(table_html(section.table))
        if section.footnote:
            parts.append(f'<p class="footnote">{_esc(section.footnote)}</p>')
        parts.append("</section>")
    if footer:
        parts.append(f"<footer>{_esc(footer)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------- files on disk
@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote: the HTML file, the PNGs, and why PNGs were skipped (or "")."""

    html: Path
    pngs: list[Path]
    png_skipped: str = ""


def kaleido_available() -> bool:
    """True when plotly can render PNGs here (the optional ``kaleido`` package is installed).

    Without it, PNGs come from each figure's camera button in the browser (:data:`FIGURE_CONFIG`).
    """
    return importlib.util.find_spec("kaleido") is not None


def _png_name(section: Section, index: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", section.anchor or f"figure-{index}").strip("-")
    return f"{stem or f'figure-{index}'}.png"


def export_pngs(sections: Sequence[Section], folder: Union[str, Path], *, scale: float = 2) -> list[Path]:
    """Each section's figure as ``<anchor>.png`` in ``folder`` (created), via kaleido.

    Raises:
        RuntimeError: kaleido is not installed (check :func:`kaleido_available` first).
    """
    if not kaleido_available():
        raise RuntimeError("PNG export needs the optional 'kaleido' package; use each figure's camera button "
                           "in the HTML report instead")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, section in enumerate(s for s in sections if s.figure is not None):
        path = out / _png_name(section, i + 1)
        report_figure(section.figure).write_image(str(path), format="png", scale=scale)
        written.append(path)
    return written


def write_report(path: Union[str, Path], html_text: str, sections: Sequence[Section] = (), *,
                 png_dir: Union[str, Path, None] = None) -> ReportFiles:
    """Write ``html_text`` to ``path`` (UTF-8) and, when ``png_dir`` is given, the figures as PNGs.

    PNGs need kaleido; without it none are written and ``png_skipped`` says why (the report's
    camera buttons still save PNGs in the browser). Nothing is downloaded or installed.
    """
    html_path = Path(path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html_text, encoding="utf-8")
    if png_dir is None:
        return ReportFiles(html=html_path, pngs=[])
    if not kaleido_available():
        return ReportFiles(html=html_path, pngs=[], png_skipped="kaleido is not installed: PNGs come from each "
                                                                "figure's camera button in the HTML report")
    return ReportFiles(html=html_path, pngs=export_pngs(sections, png_dir))
