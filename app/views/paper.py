"""The ViT paper's figures for the loaded model: Fig. 1, Table 1, Fig. 6, Fig. 7, and the paper's results."""
import dataclasses

import streamlit as st

from vitviz_dashboard import compute
from vitviz.export import file_stem
from vitviz.i18n import language, t
from vitviz.names import loaded_label, model_label, sample_name
from vitviz_dashboard.widgets import current, folding_caption, fragment, header, show_figure


def label_in_language(found, english: str, shown: str):
    """The sections (new, not yet shared: changed in place) with the model's label in the page's language:
    vitviz.paper names the model by its registry or JSON label, which is English."""
    if english == shown:
        return found
    swap = lambda text: text.replace(english, shown) if isinstance(text, str) else text  # noqa: E731
    for i, section in enumerate(found):
        fig, table = section.figure, section.table
        if fig is not None:
            fig.layout.title.text = swap(fig.layout.title.text)
            for trace in fig.data:
                if getattr(trace, "name", None):
                    trace.name = swap(trace.name)
        if table is not None:
            table = dataclasses.replace(table, rows=[[swap(cell) for cell in row] for row in table.rows])
        found[i] = dataclasses.replace(section, title=swap(section.title), caption=swap(section.caption),
                                       footnote=swap(section.footnote), table=table)
    return found

@fragment
def paper(sel) -> None:
    from vitviz.paper import paper_report, paper_sections

    loaded = compute.model_for(sel)
    sels, names = compute.sample_selections(sel)
    with st.spinner(t("paper.running", model=loaded_label(loaded), n=len(names))):
        analyses = [compute.analysis(s) for s in sels]
    lang = language()
    found = compute.cached("paper_sections", (*sel.model_key, sel.size, lang), lambda: label_in_language(  # texts
        paper_sections(loaded, analyses, [sample_name(n) for n in names]), loaded.spec.label,  # follow the language
        model_label(loaded.spec.label, lang=lang)))
    stem = file_stem("paper-figures", sel.model_label, "untrained" if sel.untrained else "")
    lang = language()  # the deferred callable runs in a server thread, where the language is the default
    st.download_button(t("paper.download"), help=t("paper.png_hint"),
                       icon=":material/download:", data=lambda: paper_report(loaded, analyses, names,
                                                                            sections=found, lang=lang).encode(),
                       file_name=f"{stem}.html", mime="text/html", key="paper-html", on_click="ignore")
    for section in found:
        st.subheader(section.title, anchor=section.anchor or None)
        if section.caption:
            folding_caption(section.caption, section.anchor or str(len(section.title)), t("paper.about_figure"))
        if section.figure is not None:
            show_figure(section.figure, f"paper-{section.anchor or len(section.title)}", sel, alt=section.caption)
        if section.table is not None:
            rows = [dict(zip(section.table.columns, map(str, row))) for row in section.table.rows]
            st.dataframe(rows, hide_index=True, width="stretch", key=f"paper-table-{section.anchor}")
        if section.footnote:
            st.caption(section.footnote)


sel = current()
header(t("paper.page"), t("paper.explanation"), sel)
if sel is not None:
    paper(sel)
