"""Interface text in English and Korean: one gettext catalogue per language, looked up by key.

The catalogues are data: ``vitviz/text/locales/<lang>/LC_MESSAGES/vitviz.po`` (gettext, read with Babel;
``vitviz/text/locales/vitviz.pot`` is the template for a new language). Each entry's ``msgctxt`` is the key,
dotted by where the text appears (``"attention.layer"``); its ``msgid`` is the English text (the source a
translator sees, in Poedit or Weblate) and its ``msgstr`` the text in the catalogue's language, with
``str.format`` fields. Counted texts have plural forms (``msgid_plural``; English two, Korean one), chosen by
the catalogue's ``Plural-Forms`` rule: :func:`tn`. Both catalogues hold the same keys (``tests/test_i18n.py``,
which also reads every ``t()``/``tn()`` call of the code); a key a catalogue lacks, or leaves untranslated,
shows as ``⟦key⟧`` — visible, so a browser test can find it — never as the other language's text. Korean texts
keep the English term in brackets where Korean technical writing does, e.g. 어텐션 롤아웃 (attention rollout).

A catalogue is parsed once per process, when a text of its language is first asked for (about 12 ms each,
plus about 10 ms to import Babel's reader; ``bench/RESULTS.md``); the server's warm-up parses both.

The current language is a context variable: the app sets it at the start of every run and every
fragment run (:func:`use`); figure builders in :mod:`vitviz.figures.plots` read it for their axis titles.
Data stays English: CSV headers, NPZ keys and file names do not follow the language.
"""
from __future__ import annotations

import gettext
import logging
import numbers
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterator, Mapping, Optional

LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
DEFAULT = "en"
MISSING = "⟦{key}⟧"
DOMAIN = "vitviz"  # the catalogues' file name: locales/<lang>/LC_MESSAGES/vitviz.po
_LOG = logging.getLogger(__name__)
_current: ContextVar[str] = ContextVar("vitviz_language", default=DEFAULT)


@dataclass(frozen=True)
class Catalogue:
    """One language's texts as read from its ``.po`` file.

    ``texts`` maps a key to its forms: one text, or one per plural form for a key in ``plurals``;
    ``source`` maps a key to its English msgid (and msgid_plural); ``plural_forms`` is the header's rule
    (``"nplurals=2; plural=(n != 1);"``).
    """
    lang: str
    texts: Mapping[str, tuple[str, ...]]
    source: Mapping[str, tuple[str, ...]]
    plurals: frozenset[str]
    plural_forms: str
    rule: Callable[[int], int]

    def form(self, key: str, n: int) -> Optional[str]:
        """The text of ``key`` for the count ``n`` (its only text where it has no plural forms)."""
        forms = self.texts.get(key)
        if not forms:
            return None
        return forms[min(self.rule(n), len(forms) - 1)] if key in self.plurals else forms[0]


def catalogue_path(lang: str):
    """The ``.po`` file of ``lang`` inside the installed package (a :mod:`importlib.resources` traversable)."""
    return resources.files(__package__) / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message's id or string as its forms: one, or one per plural form (Babel's tuple); None reads as empty."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value or "",)


@lru_cache(maxsize=None)
def catalogue(lang: str) -> Catalogue:
    """The parsed catalogue of ``lang`` (one of :data:`LANGUAGES`), read once per process.

    An entry with an empty translation counts as missing; a fuzzy one (its English changed since it was
    translated) is used, and the test suite reports it for review.
    """
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    from babel.messages.pofile import read_po  # imported here: ``import vitviz.text.i18n`` stays light

    with catalogue_path(lang).open("rb") as handle:
        parsed = read_po(handle, locale=lang, domain=DOMAIN, charset="utf-8")
    texts: dict[str, tuple[str, ...]] = {}
    source: dict[str, tuple[str, ...]] = {}
    plurals: set[str] = set()
    for message in parsed:
        if not message.id or message.context is None:
            continue  # the header
        ids, strings = _forms(message.id), _forms(message.string)
        source[message.context] = ids
        if len(ids) > 1:
            plurals.add(message.context)
        if all(strings):
            texts[message.context] = tuple(strings)
    # gettext.c2py is the standard library's reader of a Plural-Forms expression (GNUTranslations uses it).
    return Catalogue(lang, texts, source, frozenset(plurals), parsed.plural_forms, gettext.c2py(parsed.plural_expr))


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
    A missing key gives ``⟦key⟧`` (and a log line) so it shows instead of hiding. A counted text is
    :func:`tn`'s; given here, its form follows ``values["n"]`` (the singular without one).
    """
    n = values.get("n")
    return _text(key, lang, int(n) if isinstance(n, numbers.Integral) else 1, values)


def tn(key: str, n: int, /, lang: Optional[str] = None, **values: object) -> str:
    """The form of the counted text ``key`` for ``n``, by the catalogue's plural rule, formatted with
    ``values`` and ``{n}``: ``tn("paper.images_n", 1)`` gives ``"1 image"``, ``tn("paper.images_n", 3)``
    ``"3 images"``, and in Korean ``"이미지 3장"`` (one form). A key without plural forms gives its one text.
    """
    return _text(key, lang, int(n), {"n": n, **values})


def _text(key: str, lang: Optional[str], n: int, values: dict) -> str:
    lang = lang or language()
    text = catalogue(lang).form(key, n)
    if text is None:
        _LOG.warning("missing text %r in the %s catalogue", key, lang)
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
