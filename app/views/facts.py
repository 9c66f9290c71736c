"""The loaded model's facts next to the ViT paper's Table 1."""
import streamlit as st

from vitviz_dashboard import compute
from vitviz.analysis import PAPER_TABLE1
from vitviz.text.i18n import t
from vitviz.text.names import loaded_label
from vitviz_dashboard.frame import current, fragment, header


@fragment
def facts(sel) -> None:
    loaded = compute.model_for(sel)
    f = compute.analysis(sel).facts
    st.subheader(loaded_label(loaded))
    st.caption(t("facts.source", arch=loaded.spec.architecture if loaded.spec.local else loaded.name,
                 weights=loaded.source_name, device=loaded.device, dtype=str(loaded.dtype).replace("torch.", "")))
    cols = [t(f"facts.col_{c}") for c in ("model", "layers", "hidden", "mlp", "heads", "params")]
    rows = [dict(zip(cols, [t("facts.this_model"), f.layers, f.hidden_size, f.mlp_size, f.heads,
                            f"{f.params / 1e6:.1f}M"]))]
    rows += [dict(zip(cols, [t("facts.paper_model", name=name), l, d, m, h, f"{p / 1e6:.0f}M"]))
             for name, l, d, m, h, p in PAPER_TABLE1]
    st.dataframe(rows, hide_index=True, width="stretch", key="vv_facts_table")
    ph, pw = f.patch_size
    head = t("facts.classes", n=loaded.num_classes) if loaded.num_classes else t("facts.no_head")
    st.markdown(t("facts.list", ph=ph, pw=pw, gh=f.grid[0], gw=f.grid[1], n=f.num_patches,
                  prefix=", ".join(f.prefix_names) or t("walk.none"), n_prefix=f.num_prefix_tokens, tokens=f.tokens,
                  head=head))
    if f.stem:  # a hybrid: the CNN stem before the Transformer (the paper's Sec. 3.1)
        st.markdown(t("facts.stem", stem=f.stem, channels=f.stem_channels, stride=f.stem_stride[0],
                      rf=f.stem_receptive_field or "?", params=f"{(f.stem_params or 0) / 1e6:.1f}",
                      total=f"{f.params / 1e6:.1f}"))


sel = current()
header(t("facts.page"), t("facts.explanation"), sel)
if sel is not None:
    facts(sel)
