"""Convert the old interface-text dicts (``vitviz/locales/en.py`` and ``ko.py``, ``TEXT = {key: text}``) into
gettext catalogues: ``vitviz/locales/<lang>/LC_MESSAGES/vitviz.po`` for English and Korean, and the template
``vitviz/locales/vitviz.pot`` for a new language. A one-time migration (issue 23), kept for the merge of
branches that still add keys to the dicts.

Usage (from the repository root)::

    python tools/locales_to_po.py                      # the dict modules of this working tree
    python tools/locales_to_po.py --from-rev main      # the dict modules as committed at a git revision
    python tools/locales_to_po.py --from-py EN KO [--rev REV]   # two files anywhere
    python tools/locales_to_po.py --merge-from BRANCH  # a branch merged after the conversion: its changes only

Names the dicts import (``SINK_EXPLANATION``, the paper's captions) are read from the module they import them
from — at the same revision with ``--from-rev``/``--rev``, else in the checkout the files sit in — and become
literal text in the catalogues. Nothing is imported: the files are read as syntax trees.

The catalogue design: bilingual gettext with the key as context. Every entry is::

    #, python-brace-format
    msgctxt "distance.progress"
    msgid "{label}: {n} / {total} images"
    msgstr "{label}: 이미지 {n} / {total}"

``msgctxt`` is the dotted key the code asks for (``t("distance.progress")``); ``msgid`` is the English text, the
source string; ``msgstr`` is the text in the catalogue's language (the English catalogue repeats its msgid). This
is gettext's ordinary bilingual form, which Poedit opens as is (source, context and translation side by side,
translation memory on the English) and Weblate reads as "Gettext PO file" with ``vitviz.pot`` as the template for
new translations; both check the ``{fields}`` because of the ``python-brace-format`` flag. The alternative,
monolingual keys (``msgid "distance.progress"``), Poedit shows as untranslatable keys and cannot express plurals.
A changed English text changes the msgid, so ``pybabel update`` and Weblate mark the translation fuzzy for review.

Plurals: texts written ``"{n} image(s)"`` become entries with ``msgid_plural`` (``"{n} image"`` / ``"{n} images"``);
the count is the field ``{n}`` (a ``{count}`` field is renamed), the code calls ``tn(key, n, ...)``. Korean has one
form. ``PLURALS`` lists the known ones (with English grammar fixes for the singular); any other text with ``(s)``
is converted when its count field can be seen (``{x} word(s)``), else reported.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import io
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
LOCALES = "vitviz/locales"
LANGS = ("en", "ko")
NAMES = {"en": "English", "ko": "Korean"}
DOMAIN = "vitviz"


@dataclass(frozen=True)
class Plural:
    """How a ``(s)`` text becomes singular and plural: its count field (None: the count is not shown) and the
    English replacements that make the singular grammatical (applied to the plural's text)."""
    count: Optional[str] = "n"
    singular_fixes: tuple[tuple[str, str], ...] = ()


#: The "(s)" texts at the conversion (issue 23) and the count each call site passes.
PLURALS: dict[str, Plural] = {
    "walk.prefix_text": Plural("n"),
    "paper.table1_caption": Plural("n"),
    "paper.images_n": Plural("n"),
    "paper.fig6_section": Plural("count"),
    "paper.fig6_title_extra": Plural("count"),
    "paper.fig7_right_title_extra": Plural("count"),
    "paper.fig7_right_caption": Plural("count"),
    # the number of layers where the sink is outsized (the number of sinks chooses _one/_many)
    "attention.sink_found_one": Plural(None),
    "attention.sink_found_many": Plural(None),
    "plot.sinks_out_caption": Plural(None, (("are left out", "is left out"), ("with them", "with it"),
                                            ("puts them back", "puts it back"))),
    "talk.cls_takeaway": Plural("prefix"),
    "talk.fig6_takeaway": Plural("sinks"),
    "talk.fig6_takeaway_gap": Plural("sinks"),
    "encoder.position_text": Plural(None, (("get theirs too", "gets its own too"),
                                           ("shows the first one", "shows it"))),
}
#: Two keys that were a plural by hand become one plural entry: new key -> (singular key, plural key).
MERGED: dict[str, tuple[str, str]] = {"plot.images_n": ("plot.images_one", "plot.images_n")}
OPTIONAL = re.compile(r"\((e?s)\)")  # "image(s)", "patch(es)"


# --------------------------------------------------------------------------------------- reading the dicts
class Files:
    """Source files by repository path: at a git revision, or in a checkout folder."""

    def __init__(self, rev: Optional[str] = None, root: Path = REPO):
        self.rev, self.root = rev, root

    def read(self, path: str) -> str:
        if self.rev is None:
            try:
                return (self.root / path).read_text(encoding="utf-8")
            except OSError:
                raise SystemExit(f"cannot read {path} in {self.root}: give --rev REV to read it at a git revision")
        done = subprocess.run(["git", "show", f"{self.rev}:{path}"], cwd=self.root, capture_output=True)
        if done.returncode:
            raise SystemExit(f"cannot read {path} at {self.rev}: {done.stderr.decode().strip()}")
        return done.stdout.decode("utf-8")


def module_path(package: str, node: ast.ImportFrom) -> str:
    """``from ..analysis.sinks import X`` inside package ``vitviz/locales`` -> ``vitviz/analysis/sinks.py``."""
    parts = package.split("/")
    if node.level:
        parts = parts[: len(parts) - node.level + 1]
    else:
        parts = []
    return "/".join(parts + (node.module or "").split(".")) + ".py"


def constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = value`` (and annotated) assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found[node.target.id] = node.value
    return found


def evaluate(node: ast.expr, lookup: Callable[[str], str]) -> str:
    """A text value: string literals (implicitly joined by the parser), ``+`` and names from ``lookup``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(node.left, lookup) + evaluate(node.right, lookup)
    if isinstance(node, ast.Name):
        return lookup(node.id)
    raise SystemExit(f"line {node.lineno}: cannot read {ast.unparse(node)!r} as text")


def resolver(path: str, tree: ast.Module, files: Files) -> Callable[[str], str]:
    """Resolve a name used in the module at ``path``: its own constants, else the module it imports it from."""
    local = constants(tree)
    imported = {alias.asname or alias.name: (module_path(str(Path(path).parent), node), alias.name)
                for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names}

    def lookup(name: str) -> str:
        if name in local:
            return evaluate(local[name], lookup)
        if name not in imported:
            raise SystemExit(f"{path}: {name} is neither defined nor imported")
        source, original = imported[name]
        other = ast.parse(files.read(source))
        return resolver(source, other, files)(original)
    return lookup


def comments(text: str) -> dict[int, str]:
    """Line number -> the ``#`` comment on it."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


@dataclass
class Entry:
    text: str
    comments: list[str] = field(default_factory=list)


def read_text_dict(path: str, text: str, files: Files) -> dict[str, Entry]:
    """The ``TEXT`` dict of a locale module (``path`` is where it sits in the repository, for its imports)."""
    tree = ast.parse(text)
    value = constants(tree).get("TEXT")
    if not isinstance(value, ast.Dict):
        raise SystemExit(f"{path}: no TEXT = {{...}} dict")
    lookup, notes = resolver(path, tree, files), comments(text)
    entries = {}
    for key, val in zip(value.keys, value.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise SystemExit(f"{path}: line {val.lineno}: keys must be string literals")
        said = [notes[n] for n in range(key.lineno, val.end_lineno + 1) if n in notes]
        entries[key.value] = Entry(evaluate(val, lookup), said)
    return entries


# --------------------------------------------------------------------------------------- plurals
def rename_count(text: str, count: Optional[str]) -> str:
    if count in (None, "n"):
        return text
    if re.search(r"\{n[:!}]", text):
        raise SystemExit(f"cannot rename {{{count}}} to {{n}} in {text!r}: it has an {{n}} already")
    return re.sub(r"\{" + count + r"([:!}])", r"{n\1", text)


def split_plural(key: str, text: str, rule: Plural) -> tuple[str, str]:
    """English singular and plural of a ``(s)`` text: ``"{n} image(s)"`` -> ``("{n} image", "{n} images")``."""
    plural = OPTIONAL.sub(r"\1", text)
    singular = OPTIONAL.sub("", text)
    for many, one in rule.singular_fixes:
        if many not in singular:
            raise SystemExit(f"{key}: the singular fix {many!r} no longer applies to {text!r}; edit PLURALS")
        singular = singular.replace(many, one)
    return singular, plural


def guess_plural(text: str) -> Optional[Plural]:
    """The count field of ``"… {x} word(s) …"`` when exactly one such phrase is in the text."""
    counts = set(re.findall(r"\{(\w+)\}\s+[\w-]+\((?:e?s)\)", text))
    return Plural(counts.pop()) if len(counts) == 1 and len(OPTIONAL.findall(text)) == 1 else None


@dataclass
class Row:
    """One catalogue entry: the English source (one or two forms) and the texts per language."""
    key: str
    source: tuple[str, ...]
    texts: dict[str, tuple[str, ...]]
    comments: list[str]


def rows(dicts: dict[str, dict[str, Entry]], report: list[str], drop: frozenset[str] = frozenset()) -> list[Row]:
    en, ko = ({k: v for k, v in dicts[lang].items() if k not in drop} for lang in LANGS)
    if set(en) != set(ko):
        report.append(f"keys in one catalogue only (left as they are): {sorted(set(en) ^ set(ko))}")
    merged_away = {one for new, (one, many) in MERGED.items() if new in en and many in en} - set(MERGED)
    out = []
    for key, entry in en.items():
        if key in merged_away:
            continue
        if key in MERGED and all(k in en for k in MERGED[key]):
            one, many = MERGED[key]
            source = (en[one].text, en[many].text)
            out.append(Row(key, source, {"en": source, "ko": (ko[many].text,) if many in ko else ()},
                           entry.comments))
            continue
        rule = PLURALS.get(key)
        if rule is None and OPTIONAL.search(entry.text):
            rule = guess_plural(entry.text)
            if rule is None:
                report.append(f"{key}: has '(s)' but no visible count; kept as one text: add it to PLURALS")
            else:
                report.append(f"{key}: converted to a plural on {{{rule.count}}}; call it as tn({key!r}, n, ...)")
        if rule is None or not OPTIONAL.search(entry.text):
            if rule is not None:
                report.append(f"{key}: listed in PLURALS but has no '(s)' any more; kept as one text")
            out.append(Row(key, (entry.text,), {"en": (entry.text,), "ko": (ko[key].text,) if key in ko else ()},
                           entry.comments))
            continue
        source = tuple(rename_count(s, rule.count) for s in split_plural(key, entry.text, rule))
        korean = (rename_count(ko[key].text, rule.count),) if key in ko else ()
        out.append(Row(key, source, {"en": source, "ko": korean}, entry.comments))
    return out


# --------------------------------------------------------------------------------------- writing
HEADER = """\
# vitviz interface texts: {name}.
# msgctxt is the key the code asks for (t("key"), tn("key", n)); msgid is the English text.
# Fields in braces are str.format fields: keep them as they are (python-brace-format).
# Adding a text or a language: README, "Adding a language or a text"; tests/test_i18n.py checks."""


def new_catalog(lang: Optional[str]) -> Catalog:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = NAMES.get(lang, "template for a new language")
    return Catalog(locale=lang, domain=DOMAIN, project="vitviz", header_comment=HEADER.format(name=name),
                   creation_date=now, revision_date=now, last_translator="vitviz maintainers",
                   language_team=f"{name} (vitviz)" if lang else "vitviz",
                   charset="utf-8", fuzzy=False)


def message(row: Row, strings: tuple[str, ...]) -> Message:
    plural = len(row.source) > 1
    ids = row.source if plural else row.source[0]
    text = (strings or ("", "")) if plural else (strings[0] if strings else "")
    braced = any(re.search(r"\{\w*[:!}]", s) for s in row.source)
    made = Message(ids, text, context=row.key, auto_comments=row.comments,
                   flags=("python-brace-format",) if braced else ())
    made.flags.discard("python-format")  # Babel guesses it from "88.5% result"; the texts are str.format only
    return made


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, no_location=True)
    path.write_bytes(buffer.getvalue())


def write_catalogues(table: list[Row], out: Path) -> list[Path]:
    written = []
    template = new_catalog(None)
    for row in table:
        template[row.source if len(row.source) > 1 else row.source[0]] = message(row, ())
    write(template, out / f"{DOMAIN}.pot")
    written.append(out / f"{DOMAIN}.pot")
    for lang in LANGS:
        catalog = new_catalog(lang)
        for row in table:
            if row.texts[lang]:
                catalog[row.source if len(row.source) > 1 else row.source[0]] = message(row, row.texts[lang])
        path = out / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        write(catalog, path)
        written.append(path)
    return written


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    for entry in catalog:
        entry.flags.discard("python-format")  # guessed again on reading; the texts are str.format only
    return catalog


def merge_into(out: Path, branch: list[Row], base: list[Row], report: list[str]) -> list[Path]:
    """Three-way: what a branch changed in its dicts since ``base`` goes into the catalogues already in ``out``
    (for a branch merged after the conversion): keys it added, texts it changed, keys it removed."""
    before, after = {r.key: r for r in base}, {r.key: r for r in branch}
    added = [k for k in after if k not in before]
    changed = [k for k in after if k in before and (after[k].source, after[k].texts) != (before[k].source,
                                                                                     before[k].texts)]
    removed = [k for k in before if k not in after]
    written = []
    for lang, path in [(None, out / f"{DOMAIN}.pot")] + [(lang, out / lang / "LC_MESSAGES" / f"{DOMAIN}.po")
                                                          for lang in LANGS]:
        catalog = read_catalogue(path)
        keyed = {entry.context: entry for entry in catalog if entry.id}
        for key in removed + changed + added:
            if key in keyed:
                catalog.delete(keyed[key].id, context=key)
        for key in changed + added:
            row = after[key]
            strings = () if lang is None else row.texts[lang]
            if lang is None or strings:
                catalog[row.source if len(row.source) > 1 else row.source[0]] = message(row, strings)
        write(catalog, path)
        written.append(path)
    for name, keys in (("added", added), ("changed", changed), ("removed", removed)):
        if keys:
            report.append(f"{name} by the branch: {', '.join(keys)}")
    return written


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-rev", metavar="REV", help="read vitviz/locales/{en,ko}.py as committed at REV")
    parser.add_argument("--from-py", nargs=2, metavar=("EN", "KO"), help="read these two dict modules")
    parser.add_argument("--rev", help="with --from-py: resolve their imports at this git revision")
    parser.add_argument("--drop", nargs="+", default=[], metavar="KEY",
                        help="leave these keys out (dead keys tests/test_i18n.py reports)")
    parser.add_argument("--merge-from", metavar="REV", help="a branch merged after the conversion: put what it "
                        "changed in its dicts since --base into the existing catalogues instead of rewriting them")
    parser.add_argument("--base", metavar="REV", help="with --merge-from (default: git merge-base HEAD REV)")
    parser.add_argument("--out", type=Path, default=REPO / LOCALES, help="catalogue folder (default: %(default)s)")
    args = parser.parse_args(argv)
    report: list[str] = []
    if args.merge_from:
        base = args.base or git("merge-base", "HEAD", args.merge_from)
        tables = []
        for rev in (args.merge_from, base):
            files = Files(rev)
            dicts = {lang: read_text_dict(f"{LOCALES}/{lang}.py", files.read(f"{LOCALES}/{lang}.py"), files)
                     for lang in LANGS}
            tables.append(rows(dicts, report if rev == args.merge_from else [], frozenset(args.drop)))
        for path in merge_into(args.out, tables[0], tables[1], report):
            print(f"updated {path}")
        for line in report:
            print(f"note: {line}")
        return 0
    if args.from_py:  # their imports: at --rev, else in the checkout they sit in (<root>/vitviz/locales/en.py)
        files = Files(args.rev, REPO if args.rev else Path(args.from_py[0]).resolve().parents[2])
        texts = {lang: Path(p).read_text(encoding="utf-8") for lang, p in zip(LANGS, args.from_py)}
    else:
        files = Files(args.from_rev)
        texts = {lang: files.read(f"{LOCALES}/{lang}.py") for lang in LANGS}
    dicts = {lang: read_text_dict(f"{LOCALES}/{lang}.py", texts[lang], files) for lang in LANGS}
    table = rows(dicts, report, frozenset(args.drop))
    for path in write_catalogues(table, args.out):
        print(f"wrote {path}")
    print(f"{len(table)} entries, {sum(len(r.source) > 1 for r in table)} with plural forms")
    for line in report:
        print(f"note: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
