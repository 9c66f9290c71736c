"""Interface text in English and Korean: one catalogue per language, looked up by key.

Each language's strings live in one file, ``vitviz/locales/<code>.py`` (a ``TEXT`` dict of
key → text with ``str.format`` fields). Keys are dotted by where the text appears
(``"attention.layer"``). Both catalogues hold the same keys (``tests/test_i18n.py``); a key a
catalogue lacks shows as ``⟦key⟧`` — visible, so a browser test can find it — never as the
other language's text. Korean texts keep the English term in brackets where Korean technical
writing does, e.g. 어텐션 롤아웃 (attention rollout).

The current language is a context variable: the app sets it at the start of every run and every
fragment run (:func:`use`); figure builders in :mod:`vitviz.plots` read it for their axis titles.
Data stays English: CSV headers, NPZ keys and file names do not follow the language.
"""
from __future__ import annotations

import importlib
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Iterator, Optional

LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
DEFAULT = "en"
MISSING = "⟦{key}⟧"
_LOG = logging.getLogger(__name__)
_current: ContextVar[str] = ContextVar("vitviz_language", default=DEFAULT)


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The ``TEXT`` dict of ``vitviz/locales/<lang>.py`` (``lang`` one of :data:`LANGUAGES`)."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return importlib.import_module(f"vitviz.locales.{lang}").TEXT


def language() -> str:
    """The language of this context (thread or task): ``"en"`` unless :func:`use` set another."""
    return _current.get()


def set_language(lang: str) -> None:
    """Make ``lang`` the language of the current context (unknown codes fall back to English)."""
    _current.set(lang if lang in LANGUAGES else DEFAULT)


@contextmanager
def use(lang: str) -> Iterator[None]:
    """``with use("ko"): ...`` — texts and figure labels in Korean inside the block."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def t(key: str, /, lang: Optional[str] = None, **values: object) -> str:
    """The text for ``key`` in ``lang`` (default: the current language), formatted with ``values``.

    ``t("distance.progress", lang="ko", label="ViT-S/16", n=3, total=8)`` gives ``"ViT-S/16: 이미지 3 / 8"``.
    A missing key gives ``⟦key⟧`` (and a log line) so it shows instead of hiding.
    """
    text = catalogue(lang or language()).get(key)
    if text is None:
        _LOG.warning("missing text %r in the %s catalogue", key, lang or language())
        return MISSING.format(key=key)
    return text.format(**values) if values else text


def best_language(preferred: Optional[str]) -> str:
    """The first supported language in a browser's preference (``"ko-KR"``, ``"ko-KR,ko;q=0.9,en;q=0.8"``).

    Anything unsupported or missing gives :data:`DEFAULT`.
    """
    for part in (preferred or "").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0].split("_")[0]
        if code in LANGUAGES:
            return code
    return DEFAULT


# --------------------------------------------------------------------------- untrusted text in markdown
#: CommonMark lets a backslash escape any ASCII punctuation; Streamlit's markdown adds ``:colour[…]``,
#: ``:material/…:`` and ``$…$`` on top, whose openers are punctuation too, so escaping all of it leaves
#: nothing that can start a link, an image, an autolink, HTML, an entity, a directive or maths.
_MD_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
MAX_SHOWN = 120  # characters of an untrusted value shown; the rest is cut with "…"


def _plain(value: object, limit: int) -> str:
    text = _CONTROL.sub(" ", str(value))  # a line break could end the paragraph or the code span
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md_text(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` as literal text inside Streamlit markdown: every punctuation mark backslash-escaped.

    For text a user or a link supplied (a URL value, a file name, an error message that quotes
    them): ``md_text("[x](http://a)")`` renders as the characters ``[x](http://a)``, never a link.
    """
    return _MD_PUNCTUATION.sub(r"\\\1", _plain(value, limit))


def md_code(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` as an inline code span that it cannot close: the fence is one backtick longer than
    the longest run of backticks inside, padded with spaces where the value starts or ends with one
    (CommonMark's rule). Nothing inside a code span is parsed as markdown."""
    text = _plain(value, limit)
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
