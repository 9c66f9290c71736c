"""The ViT paper's figures for the loaded model: Fig. 1, Table 1, Fig. 6, Fig. 7, and the paper's results."""
import streamlit as st

from vitviz_dashboard import compute
from vitviz.export import file_stem
from vitviz.i18n import language, t
from vitviz_dashboard.widgets import current, folding_caption, fragment, header, show_figure


@st.cache_resource(max_entries=4, show_spinner=False)
def sections(key: str, lang: str, _loaded, _analyses, names: tuple[str, ...]):  # lang: texts follow it
    from vitviz.paper import paper_sections

    return paper_sections(_loaded, _analyses, list(names))


@fragment
def paper(sel) -> None:
    from vitviz.paper import paper_report

    loaded = compute.model_for(sel)
    sels, names = compute.sample_selections(sel)
    with st.spinner(t("paper.running", model=loaded.label, n=len(names))):
        analyses = [compute.analysis(s) for s in sels]
    key = "|".join([compute.analysis_id(sel)] + [s.image_key for s in sels])
    found = sections(key, language(), loaded, analyses, tuple(names))
    stem = file_stem("paper-figures", sel.model_label, "untrained" if sel.untrained else "")
    st.download_button(t("paper.download"), help=t("paper.png_hint"),
                       icon=":material/download:", data=lambda: paper_report(loaded, analyses, names,
                                                                            sections=found).encode(),
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
