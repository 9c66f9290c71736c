"""The talk's slides as a PowerPoint file (python-pptx): one picture or one native table per slide.

Layout (16:9, 13.333 × 7.5 in): the title at the top (28 pt), the picture (scaled to fit, aspect
kept) or the table (16 pt, the highlighted row bold on amber) in the middle, the takeaway (20 pt)
and the source (12 pt, grey) at the bottom. Every run of text carries the Latin font and the
East-Asian font (``<a:ea typeface="Noto Sans CJK KR">``), so a Korean deck shows Hangul in
PowerPoint and LibreOffice Impress whatever the machine's default East-Asian font.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence, Union

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationFile  # what the function pptx.Presentation makes
from pptx.util import Emu, Inches, Pt

from vitviz.figures.report import Table
from vitviz.talk.slides import Slide

LATIN_FONT = "Noto Sans"
EAST_ASIAN_FONT = "Noto Sans CJK KR"
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.4)
TITLE_TOP, TITLE_H = Inches(0.25), Inches(0.9)
BODY_TOP, BODY_H = Inches(1.15), Inches(5.0)
TAKEAWAY_TOP, TAKEAWAY_H = Inches(6.2), Inches(0.85)  # room for two lines of 20 pt
SOURCE_TOP, SOURCE_H = Inches(7.08), Inches(0.35)
INK, GREY, HIGHLIGHT = RGBColor(0x1F, 0x29, 0x37), RGBColor(0x6B, 0x72, 0x80), RGBColor(0xFF, 0xF3, 0xCD)


def _style_run(run, size: float, *, bold: bool = False, colour: RGBColor = INK) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = LATIN_FONT
    run.font.color.rgb = colour
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):  # East-Asian (Hangul) and complex-script faces, after <a:latin>
        element = rpr.find(qn(tag))
        if element is None:
            element = rpr.makeelement(qn(tag), {})
            rpr.append(element)
        element.set("typeface", EAST_ASIAN_FONT)


def _text(slide, left, top, width, height, text: str, size: float, *, bold: bool = False,
          colour: RGBColor = INK) -> None:
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    run = frame.paragraphs[0].add_run()
    run.text = text
    _style_run(run, size, bold=bold, colour=colour)


def text_units(text: str) -> float:
    """About how wide ``text`` sets, in Latin characters: Hangul and other CJK characters count 1.8."""
    return sum(1.8 if "\u1100" <= c <= "\u11ff" or "\u2e80" <= c <= "\ud7ff" else 1.0 for c in text)


def _picture(slide, png: bytes) -> None:
    from PIL import Image

    w, h = Image.open(io.BytesIO(png)).size
    width = SLIDE_W - 2 * MARGIN
    scale = min(width / w, BODY_H / h)
    pw, ph = Emu(int(w * scale)), Emu(int(h * scale))
    slide.shapes.add_picture(io.BytesIO(png), Emu(int((SLIDE_W - pw) / 2)), BODY_TOP + Emu(int((BODY_H - ph) / 2)),
                             pw, ph)


def _table(slide, table: Table) -> None:
    rows, cols = len(table.rows) + 1, len(table.columns)
    size = 16 if rows <= 7 else 13  # Table 2's nine rows stay on the slide without wrapping
    height = Emu(int(min(BODY_H, Inches(0.42 if rows <= 7 else 0.36) * rows)))
    shape = slide.shapes.add_table(rows, cols, MARGIN, BODY_TOP, SLIDE_W - 2 * MARGIN, height)
    grid = shape.table
    # Columns as wide as their longest cell (a head may take two lines), within the slide.
    weights = [max(text_units(str(head)) / 2, *(text_units(w) + 1 for w in str(head).split()),
                   *(text_units(str(r[j])) for r in table.rows)) for j, head in enumerate(table.columns)]
    widths = [(SLIDE_W - 2 * MARGIN) * w / sum(weights) for w in weights]
    for j, width in enumerate(widths):
        grid.columns[j].width = Emu(int(width))
    # Row heights for the lines each row's longest cell needs (LibreOffice does not grow rows by itself).
    char_in, line_in = size * 0.52 / 72, size * 1.3 / 72
    for i, row in enumerate([table.columns, *table.rows]):
        lines = max(math.ceil(text_units(str(cell)) * char_in / max(widths[j] / 914400 - 0.2, 0.3))
                    for j, cell in enumerate(row))
        grid.rows[i].height = Emu(int(Inches(max(lines, 1) * line_in + 0.14)))
    for j, head in enumerate(table.columns):
        cell = grid.cell(0, j)
        cell.text = ""
        run = cell.text_frame.paragraphs[0].add_run()
        run.text = str(head)
        _style_run(run, size, bold=True, colour=RGBColor(0xFF, 0xFF, 0xFF))
    for i, row in enumerate(table.rows, 1):
        marked = (i - 1) in set(table.highlight)
        for j, value in enumerate(row):
            cell = grid.cell(i, j)
            cell.text = ""
            run = cell.text_frame.paragraphs[0].add_run()
            run.text = str(value)
            _style_run(run, size, bold=marked)
            if marked:
                cell.fill.solid()
                cell.fill.fore_color.rgb = HIGHLIGHT


def deck(slides: Sequence[Slide]) -> PresentationFile:
    """A presentation with one slide per :class:`~vitviz.talk.slides.Slide`, in order."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    blank = prs.slide_layouts[6]
    for s in slides:
        slide = prs.slides.add_slide(blank)
        title_size = 28 if text_units(s.title) <= 62 else 22  # a long title stays on one line above the body
        _text(slide, MARGIN, TITLE_TOP, SLIDE_W - 2 * MARGIN, TITLE_H, s.title, title_size, bold=True)
        if s.picture is not None:
            _picture(slide, s.picture)
        elif s.table is not None:
            _table(slide, s.table)
        _text(slide, MARGIN, TAKEAWAY_TOP, SLIDE_W - 2 * MARGIN, TAKEAWAY_H, s.takeaway, 20)
        _text(slide, MARGIN, SOURCE_TOP, SLIDE_W - 2 * MARGIN, SOURCE_H, s.source, 12, colour=GREY)
    return prs


def pptx_bytes(slides: Sequence[Slide]) -> bytes:
    """The deck as the bytes of a .pptx file."""
    out = io.BytesIO()
    deck(slides).save(out)
    return out.getvalue()


def write_pptx(path: Union[str, Path], slides: Sequence[Slide]) -> Path:
    """Write the deck to ``path`` (its folder is created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pptx_bytes(slides))
    return path
