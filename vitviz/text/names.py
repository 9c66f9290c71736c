"""Names that come from data, shown in the interface's language: model labels and descriptions, ImageNet
class names and the bundled samples' names.

Model labels and descriptions are English in the registry and in a weights folder's JSON; the
catalogues translate the texts they know. An ``en`` entry holds the English source text and the
``ko`` entry of the same key its translation, so a text is translated only when it is exactly the
text that was translated (an edited JSON description shows as written, never a stale translation):

- ``model.about.<n>``: a whole description (the registry's and the shared weights folder's);
- ``model.family.<family>``: one sentence per known family, put before an unknown description;
- ``model.phrase.<n>``: a phrase of a label (``"no head"``, ``"self-supervised backbone"``), replaced
  where it stands as whole words: ``"DINOv2 ViT-S/14 (self-supervised backbone, no classifier head)"``
  → ``"DINOv2 ViT-S/14 (자기지도 학습 백본, 분류 헤드 없음)"``. Names, datasets and recipes stay.

ImageNet-1k class names in Korean are package data (``vitviz/text/locales/imagenet_ko.txt``, one per line
in class-index order, README beside it): ``class_name(285, "Egyptian cat", lang="ko")`` gives
``"이집트 고양이 (Egyptian cat)"``. Data stays English: CSV rows and NPZ keys keep timm's names.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

from vitviz.text.i18n import DEFAULT, catalogue, language, t

IMAGENET_KO = Path(__file__).resolve().parent / "locales" / "imagenet_ko.txt"
IMAGENET_CLASSES = 1000
FAMILY, SAMPLE = "model.family.", "sample."  # keys looked up by these prefixes and the family's or file's name


def _lang(lang: Optional[str]) -> str:
    return lang or language()


@lru_cache(maxsize=None)
def _translations(prefix: str, lang: str) -> dict[str, str]:
    """English source text → its ``lang`` text, for every catalogue key under ``prefix``."""
    en, other = catalogue(DEFAULT).texts, catalogue(lang).texts
    return {en[k][0]: other[k][0] for k in en if k.startswith(prefix) and k in other}


@lru_cache(maxsize=None)
def _phrase_pattern(lang: str) -> Optional[re.Pattern]:
    phrases = sorted(_translations("model.phrase.", lang), key=len, reverse=True)  # longest first
    if not phrases:
        return None
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])")


def model_label(label: str, *, untrained: bool = False, lang: Optional[str] = None) -> str:
    """A model's label in ``lang`` (default: the current language), with "(untrained)" in that language.

    Known phrases are translated where they stand as whole words; names (``ViT-S/14``), datasets
    (``IN-21k``) and recipes (``AugReg``) stay: ``model_label("ViT-L/32 (original, IN-21k, no head)",
    lang="ko")`` gives ``"ViT-L/32 (원본, IN-21k, 헤드 없음)"``.
    """
    lang = _lang(lang)
    text = label
    if lang != DEFAULT:
        table = _translations("model.phrase.", lang)
        pattern = _phrase_pattern(lang)
        if pattern is not None:
            text = pattern.sub(lambda m: table[m.group(1)], label)
    return f"{text} {t('plot.untrained', lang=lang)}" if untrained else text


def model_description(description: str, family: str = "", *, lang: Optional[str] = None) -> str:
    """A model's description in ``lang``: the catalogue's translation of exactly this text; else, for a
    known family, that family's sentence followed by the text as given; else the text as given."""
    lang = _lang(lang)
    if lang == DEFAULT or not description:
        return description
    known = _translations("model.about.", lang).get(description)
    if known is not None:
        return known
    family_text = catalogue(lang).form(FAMILY + family, 1)
    return f"{family_text} {t('model.original_text', lang=lang, text=description)}" if family_text else description


@lru_cache(maxsize=None)
def imagenet_korean() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in Korean, in class-index order (``vitviz/text/locales/imagenet_ko.txt``)."""
    names = tuple(line.strip() for line in IMAGENET_KO.read_text(encoding="utf-8").splitlines())
    if len(names) != IMAGENET_CLASSES:
        raise ValueError(f"{IMAGENET_KO} holds {len(names)} names, not {IMAGENET_CLASSES}")
    return names


@lru_cache(maxsize=4)
def _imagenet_english() -> Optional[tuple[str, ...]]:
    try:
        from timm.data import ImageNetInfo

        info = ImageNetInfo("imagenet-1k")
        return tuple(info.index_to_description(i) for i in range(info.num_classes()))
    except Exception:  # noqa: BLE001 - without timm's class list, names stay as given
        return None


def class_name(index: int, english: str, *, lang: Optional[str] = None) -> str:
    """A predicted class's name for display: ``english`` (timm's description) in English; in another
    language, for an ImageNet-1k class (``english`` is that class's description), the translated name
    with the first English synonym beside it, ``"이집트 고양이 (Egyptian cat)"``. Other heads' names
    (ImageNet-21k, ``class 17``) stay as given."""
    lang = _lang(lang)
    if lang == DEFAULT:
        return english
    known = _imagenet_english()
    if lang != "ko" or known is None or not 0 <= int(index) < len(known) or known[int(index)] != english:
        return english
    return f"{imagenet_korean()[int(index)]} ({english.split(',')[0].strip()})"


def sample_name(stem: str, *, lang: Optional[str] = None) -> str:
    """A bundled sample's display name (``"cat"`` → ``"고양이"``); the file stem stays the URL's value.
    A sample the catalogue does not name shows its stem."""
    return catalogue(_lang(lang)).form(SAMPLE + stem, 1) or stem


def class_names_shown(names: Optional[Sequence[str]], *, lang: Optional[str] = None) -> Optional[tuple[str, ...]]:
    """A head's class names (index order) as :func:`class_name` shows them; None stays None."""
    return None if names is None else tuple(class_name(i, n, lang=lang) for i, n in enumerate(names))


def loaded_label(loaded, *, lang: Optional[str] = None) -> str:
    """A :class:`~vitviz.loading.models.LoadedModel`'s label in ``lang``, "(untrained)" included for random weights."""
    return model_label(loaded.spec.label, untrained=not loaded.pretrained, lang=lang)


def token_label(layout, index: int, *, lang: Optional[str] = None) -> str:
    """A token's name for display (:meth:`vitviz.inputs.preprocess.TokenLayout.token_name` in ``lang``): prefix
    tokens keep their names (``cls``, ``dist``, ``reg0``), a patch is ``"patch (row, col)"`` (0-based) with
    "patch" in the language: ``"패치 (5, 10)"``."""
    patch = layout.patch_of(index)
    if patch is None:
        return layout.token_name(index)
    return f"{t('plot.patch', lang=_lang(lang))} ({int(patch[0])}, {int(patch[1])})"
