"""Small text helpers of the paper's figures and tables: labels escaped for plotly, parameter counts, sizes."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Sequence


if TYPE_CHECKING:  # pragma: no cover
    pass


def plain_text(value: object) -> str:
    """Plotly renders a subset of HTML in text; escape labels so they show literally."""
    return html.escape(str(value), quote=False)


def params_text(params: int) -> str:
    return f"{params / 1e6:.1f}M" if params < 1e9 else f"{params / 1e9:.2f}B"


def pair_text(pair: Sequence[int], sep: str = " × ") -> str:
    return f"{pair[0]}{sep}{pair[1]}"
