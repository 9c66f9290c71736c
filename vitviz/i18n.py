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
