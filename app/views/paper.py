"""The ViT paper's figures for the loaded model: Fig. 1, Table 1, Fig. 6, Fig. 7, and the paper's results."""
import dataclasses

import plotly.graph_objects as go
import streamlit as st

from vitviz_dashboard import caches, compute, selection
from vitviz.figures import plots
from vitviz.export import file_stem
from vitviz.text.i18n import language, t
from vitviz.text.names import loaded_label, model_label, sample_name
from vitviz_dashboard.frame import current, fit, folding_caption, fragment, header
from vitviz_dashboard.widgets import show_figure

FIG1_PRESENTER_HEIGHT = 560  # px: Fig. 1 under the page title on a 1280×720 projector
PRESENTER_TITLE_WIDTH = 1000  # px: a title line on the projector's main column


def label_in_language(found, english: str, shown: str):
    """The sections (new, not yet shared: changed in place) with the model's label in the page's language:
    vitviz.figures.paper names the model by its registry or JSON label, which is English."""
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

# Fig. 1 is a diagram of fixed-size labels: plotly draws it FIG1_WIDTH px wide, and a narrower column (a phone,
# a tablet) scrolls it sideways, where drawn narrower its labels ran into one another. (Scaled down as a picture
# instead, it was re-laid out narrow by Streamlit, which sizes a chart by its drawn width.)
FIG1_WIDTH = 880
FIG1_CSS = f"""<style>
  .st-key-vv-paper-fig1 {{ overflow-x: auto; overflow-y: hidden; }}
  .st-key-vv-paper-fig1 > [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]) {{
    width: {FIG1_WIDTH}px !important; max-width: none !important; flex: none; }}
  .st-key-vv-paper-fig1 [data-testid="stPlotlyChart"],
  .st-key-vv-paper-fig1 [data-testid="stPlotlyChart"] > div {{ max-width: none !important; overflow: visible !important; }}
</style>"""


def show_fig1(figure, alt: str, sel) -> None:
    """Paper Fig. 1: in presenter mode sized to the projector (its title in lines as wide as the screen);
    otherwise FIG1_WIDTH px wide, scrolled sideways in a narrower column (FIG1_CSS)."""
    figure = go.Figure(figure)  # the cached figure is shared: sized on a copy
    if sel.presenter:
        show_figure(fit(plots.rewrap_title(figure, PRESENTER_TITLE_WIDTH), sel, FIG1_PRESENTER_HEIGHT),
                    "paper-fig1", sel, alt=alt)
        return
    # Its drawing is 162 × 84 units with square units: as tall as that at this width, no empty band.
    m = figure.layout.margin
    figure.update_layout(width=FIG1_WIDTH, height=int(m.t + m.b + (FIG1_WIDTH - m.l - m.r) * 84 / 162) + 4)
    st.html(FIG1_CSS)
    with st.container(key="vv-paper-fig1"):
        show_figure(figure, "paper-fig1", sel, alt=alt)


def page_sections(sel, lang: str):
    """(the model, the samples' analyses, their names, the page's sections), all from the server's caches."""
    from vitviz.figures.paper import paper_sections

    loaded = compute.model_for(sel)
    sels, names = selection.sample_selections(sel)
    analyses = [compute.analysis(s) for s in sels]
    found = caches.cached("paper_sections", (*sel.model_key, sel.size, lang), lambda: label_in_language(  # texts
        paper_sections(loaded, analyses, [sample_name(n) for n in names]), loaded.spec.label,  # follow the language
        model_label(loaded.spec.label, lang=lang)))
    return loaded, analyses, names, found


def report_html(sel, lang: str) -> bytes:
    """The page as one HTML file, made when the download is asked for: from the caches then, so a session keeps
    no reference to the six analyses meanwhile (a deferred download's closure lives as long as the session)."""
    from vitviz.figures.paper import paper_report

    loaded, analyses, names, found = page_sections(sel, lang)
    return paper_report(loaded, analyses, names, sections=found, lang=lang).encode()


@fragment
def paper(sel) -> None:
    lang = language()
    with st.spinner(t("paper.running", model=loaded_label(compute.model_for(sel)), n=len(selection.sample_names()))):
        loaded, analyses, names, found = page_sections(sel, lang)
    stem = file_stem("paper-figures", sel.model_label, "untrained" if sel.untrained else "")
    # On a projector the page starts with Fig. 1 (the download moves to the end, captions into the headings' tooltips).
    download = st.container() if not sel.presenter else None
    for section in found:
        opening = sel.presenter and section.anchor == "fig1"  # its figure's title names it: no heading above
        if not opening:
            st.subheader(section.title, anchor=section.anchor or None, help=section.caption if sel.presenter else None)
        if section.caption and not sel.presenter:
            folding_caption(section.caption, section.anchor or str(len(section.title)), t("paper.about_figure"))
        if section.anchor == "fig1" and section.figure is not None:
            show_fig1(section.figure, section.caption, sel)
        elif section.figure is not None:
            show_figure(section.figure, f"paper-{section.anchor or len(section.title)}", sel, alt=section.caption)
        if section.table is not None:
            rows = [dict(zip(section.table.columns, map(str, row))) for row in section.table.rows]
            st.dataframe(rows, hide_index=True, width="stretch", key=f"paper-table-{section.anchor}")
        if section.footnote:
            st.caption(section.footnote)
    (download if download is not None else st.container()).download_button(
        t("paper.download"), help=t("paper.png_hint"), icon=":material/download:",
        # the deferred callable runs in a server thread, where the language is the default: pass this run's
        data=lambda: report_html(sel, lang), file_name=f"{stem}.html",
        mime="text/html", key="paper-html", on_click="ignore")


sel = current()
header(t("paper.page"), t("paper.explanation"), sel)
if sel is not None:
    paper(sel)
