"""Numbers reported in the ViT paper, as plain data (no torch): Table 2 and Table 6 (the points of Fig. 5).

Source: Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at
Scale", ICLR 2021, arXiv:2010.11929v2. None is computed by vitviz. Every value was checked cell by
cell against two independent transcriptions of the paper's text: Table 2 against a PDF-to-text
conversion of the ICLR version and a second rendering of the same table; Table 6 against an HTML
transcription of appendix C and a PDF-to-text conversion. Table 2 cells keep the paper's own text
(e.g. ``"88.55 ± 0.04"``, ``"88.4/88.5*"``, ``"—"`` for "not reported") so nothing is lost to float
formatting; :func:`cell_mean` and :func:`cell_std` read the numbers back.

The paper's captions (Table 2 with its footnote, Table 6, Fig. 5) are interface text, quoted in English
in the gettext catalogues (keys ``paper.table2_caption``, ``paper.table2_footnote``, ``paper.table6_caption``,
``paper.fig5_caption``; :mod:`vitviz.text.i18n`), and rendered in Korean there saying it is the paper's caption,
translated. The ``*_SOURCE`` references below are data (each :class:`PaperPoint` carries one); the catalogue's
``paper.source_table2``/``paper.source_table6`` repeat them for the pages (a test keeps them equal). Model
names, dataset names and every number stay as printed in any language.

Left out on purpose: the curves of Fig. 5 themselves (the paper gives their points as Table 6,
used here) and its "Average-5" panel, whose averaging the paper does not spell out per point.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

ARXIV_ID = "2010.11929v2"
CITATION = ("Dosovitskiy et al., “An Image is Worth 16x16 Words: Transformers for Image Recognition "
            f"at Scale”, ICLR 2021, arXiv:{ARXIV_ID}")
#: Where each group of numbers is printed in arXiv:2010.11929v2.
TABLE2_SOURCE = f"Table 2, arXiv:{ARXIV_ID} (Sec. 4.2)"
TABLE6_SOURCE = f"Table 6 (appendix C), the points of Fig. 5, arXiv:{ARXIV_ID}"
TABLE1_SOURCE = f"Table 1, arXiv:{ARXIV_ID} (Sec. 4.1)"

# --------------------------------------------------------------------------------------- Table 2
#: Column heads of Table 2: (the paper's group label, architecture). "Ours" = ViT.
TABLE2_MODELS: tuple[tuple[str, str], ...] = (
    ("Ours-JFT", "ViT-H/14"),
    ("Ours-JFT", "ViT-L/16"),
    ("Ours-I21k", "ViT-L/16"),
    ("BiT-L", "ResNet152x4"),
    ("Noisy Student", "EfficientNet-L2"),
)

#: Table 2 rows: benchmark, then one cell per :data:`TABLE2_MODELS` column, as printed.
#: Accuracies in %, mean ± standard deviation over three fine-tuning runs; the last row is the
#: pre-training cost in TPUv3-core-days (cores × days).
TABLE2_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ImageNet", ("88.55 ± 0.04", "87.76 ± 0.03", "85.30 ± 0.02", "87.54 ± 0.02", "88.4/88.5*")),
    ("ImageNet ReaL", ("90.72 ± 0.05", "90.54 ± 0.03", "88.62 ± 0.05", "90.54", "90.55")),
    ("CIFAR-10", ("99.50 ± 0.06", "99.42 ± 0.03", "99.15 ± 0.03", "99.37 ± 0.06", "—")),
    ("CIFAR-100", ("94.55 ± 0.04", "93.90 ± 0.05", "93.25 ± 0.05", "93.51 ± 0.08", "—")),
    ("Oxford-IIIT Pets", ("97.56 ± 0.03", "97.32 ± 0.11", "94.67 ± 0.15", "96.62 ± 0.23", "—")),
    ("Oxford Flowers-102", ("99.68 ± 0.02", "99.74 ± 0.00", "99.61 ± 0.02", "99.63 ± 0.03", "—")),
    ("VTAB (19 tasks)", ("77.63 ± 0.23", "76.28 ± 0.46", "72.72 ± 0.21", "76.29 ± 1.70", "—")),
    ("TPUv3-core-days", ("2.5k", "0.68k", "0.23k", "9.9k", "12.3k")),
)

#: The Table 2 row that is pre-training cost, not accuracy.
TABLE2_COMPUTE_ROW = "TPUv3-core-days"

# --------------------------------------------------------------------------------------- Table 6
#: Column heads of Table 6 (appendix C, "Detailed results of model scaling experiments").
TABLE6_COLUMNS: tuple[str, ...] = ("Model", "Epochs", "ImageNet", "ImageNet ReaL", "CIFAR-10", "CIFAR-100",
                                   "Pets", "Flowers", "exaFLOPs")
#: The accuracy columns of Table 6 (transfer accuracy in %, after pre-training on JFT-300M).
TABLE6_DATASETS: tuple[str, ...] = TABLE6_COLUMNS[2:8]

#: Table 6 rows: name, pre-training epochs on JFT-300M, six transfer accuracies (%), pre-training
#: compute in exaFLOPs. These are the points of the paper's Fig. 5.
TABLE6_ROWS: tuple[tuple[str, int, float, float, float, float, float, float, int], ...] = (
    ("ViT-B/32", 7, 80.73, 86.27, 98.61, 90.49, 93.40, 99.27, 55),
    ("ViT-B/16", 7, 84.15, 88.85, 99.00, 91.87, 95.80, 99.56, 224),
    ("ViT-L/32", 7, 84.37, 88.28, 99.19, 92.52, 95.83, 99.45, 196),
    ("ViT-L/16", 7, 86.30, 89.43, 99.38, 93.46, 96.81, 99.66, 783),
    ("ViT-L/16", 14, 87.12, 89.99, 99.38, 94.04, 97.11, 99.56, 1567),
    ("ViT-H/14", 14, 88.08, 90.36, 99.50, 94.71, 97.11, 99.71, 4262),
    ("ResNet50x1", 7, 77.54, 84.56, 97.67, 86.07, 91.11, 94.26, 50),
    ("ResNet50x2", 7, 82.12, 87.94, 98.29, 89.20, 93.43, 97.02, 199),
    ("ResNet101x1", 7, 80.67, 87.07, 98.48, 89.17, 94.08, 95.95, 96),
    ("ResNet152x1", 7, 81.88, 87.96, 98.82, 90.22, 94.17, 96.94, 141),
    ("ResNet152x2", 7, 84.97, 89.69, 99.06, 92.05, 95.37, 98.62, 563),
    ("ResNet152x2", 14, 85.56, 89.89, 99.24, 91.92, 95.75, 98.75, 1126),
    ("ResNet200x3", 14, 87.22, 90.15, 99.34, 93.53, 96.32, 99.04, 3306),
    ("R50x1+ViT-B/32", 7, 84.90, 89.15, 99.01, 92.24, 95.75, 99.46, 106),
    ("R50x1+ViT-B/16", 7, 85.58, 89.65, 99.14, 92.63, 96.65, 99.40, 274),
    ("R50x1+ViT-L/32", 7, 85.68, 89.04, 99.24, 92.93, 96.97, 99.43, 246),
    ("R50x1+ViT-L/16", 7, 86.60, 89.72, 99.18, 93.64, 97.03, 99.40, 859),
    ("R50x1+ViT-L/16", 14, 87.12, 89.76, 99.31, 93.89, 97.36, 99.11, 1668),
)


def table6_family(name: str) -> str:
    """``"ViT"``, ``"ResNet (BiT)"`` or ``"Hybrid"`` for a Table 6 model name."""
    if "+" in name:
        return "Hybrid"
    return "ResNet (BiT)" if name.startswith("ResNet") else "ViT"


def cell_std(cell: str) -> Optional[float]:
    """The standard deviation of a Table 2 cell: ``"88.55 ± 0.04"`` → 0.04; None when not printed."""
    match = re.search(r"±\s*([0-9]+(?:\.[0-9]+)?)", cell)
    return float(match.group(1)) if match else None


@dataclass(frozen=True)
class Reported:
    """One number the paper reports, with where it is printed.

    Attributes:
        model: the paper's model name, e.g. ``"ViT-H/14"`` or ``"BiT-L (ResNet152x4)"``.
        pretraining: pre-training data (``"JFT-300M"``, ``"ImageNet-21k"``; ``""`` where the paper's
            column does not say).
        benchmark: e.g. ``"ImageNet"`` or ``"TPUv3-core-days"`` / ``"exaFLOPs"`` for compute.
        value: the number (accuracy in %, or compute in the benchmark's unit).
        std: standard deviation over three fine-tuning runs, when printed.
        source: table/figure of arXiv:2010.11929v2.
        family: ``"ViT"``, ``"ResNet (BiT)"``, ``"Hybrid"`` or ``"EfficientNet"``.
        epochs: pre-training epochs (Table 6 only).
    """

    model: str
    pretraining: str
    benchmark: str
    value: float
    std: Optional[float]
    source: str
    family: str
    epochs: Optional[int] = None


def fig5_points() -> list[Reported]:
    """Fig. 5's points (Table 6): per model and epochs, six accuracies and the compute in exaFLOPs."""
    out = []
    for name, epochs, *accs, flops in TABLE6_ROWS:
        family = table6_family(name)
        for dataset, value in zip(TABLE6_DATASETS, accs):
            out.append(Reported(model=name, pretraining="JFT-300M", benchmark=dataset, value=float(value),
                                std=None, source=TABLE6_SOURCE, family=family, epochs=epochs))
        out.append(Reported(model=name, pretraining="JFT-300M", benchmark="exaFLOPs", value=float(flops), std=None,
                            source=TABLE6_SOURCE, family=family, epochs=epochs))
    return out


def cell_mean(cell: str) -> Optional[float]:
    """The number a Table 2 cell reports: ``"88.55 ± 0.04"`` → 88.55, ``"88.4/88.5*"`` → 88.4
    (the paper's own first value), ``"2.5k"`` → 2500.0, ``"—"`` → None."""
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)(k?)", cell)
    if match is None:
        return None
    value = float(match.group(1))
    return value * 1000 if match.group(2) else value


# --------------------------------------------------------------------------------------- Table 5
#: Where Fig. 3's points are printed.
TABLE5_SOURCE = f"Table 5 (appendix D), the points of Fig. 3, arXiv:{ARXIV_ID}"
#: The ViT columns of Table 5 (and of Fig. 3).
TABLE5_MODELS: tuple[str, ...] = ("ViT-B/16", "ViT-B/32", "ViT-L/16", "ViT-L/32", "ViT-H/14")
#: Pre-training datasets of Table 5, smallest first (the x axis of Fig. 3).
TABLE5_DATASETS: tuple[str, ...] = ("ImageNet", "ImageNet-21k", "JFT-300M")
#: Table 5's "ImageNet" rows: ImageNet top-1 accuracy (%) after fine-tuning, per pre-training dataset and
#: :data:`TABLE5_MODELS` column; None where the paper prints "-" (no ViT-H/14 pre-trained on ImageNet).
#: These are the ViT points of Fig. 3 (its BiT bands are not printed as numbers and are not here).
#: Checked against a Markdown transcription of Table 5 (github.com/mohammed183/re_vit,
#: markdown/05-Going_Further.md); the JFT-300M row also equals Table 6's ViT rows (ViT-B/32 and
#: ViT-B/16 at 7 epochs, ViT-L/32 at 7, ViT-L/16 at 14 epochs), except ViT-H/14 (88.04 here, 88.08 in
#: Table 6, as printed in the paper). Only the ImageNet rows are kept: the other datasets' rows were not
#: checked against a second source.
TABLE5_IMAGENET: dict[str, tuple[Optional[float], ...]] = {
    "ImageNet": (77.91, 73.38, 76.53, 71.16, None),
    "ImageNet-21k": (83.97, 81.28, 85.15, 80.99, 85.13),
    "JFT-300M": (84.15, 80.73, 87.12, 84.37, 88.04),
}
#: Fig. 4 (linear few-shot on JFT subsets of 9M–300M images) is not here: the paper prints no table of its points.
