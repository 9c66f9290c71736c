"""The loaded model's facts next to the ViT paper's Table 1."""
import streamlit as st

import compute
from vitviz.analysis import PAPER_TABLE1
from widgets import current, fragment, header

EXPLANATION = ("Layers, hidden size D, MLP size, heads and parameters as in the paper's Table 1, read off the loaded "
               "model, plus the token sequence for the current input size.")


@fragment
def facts(sel) -> None:
    loaded = compute.model_for(sel)
    f = compute.analysis(sel).facts
    st.subheader(loaded.label)
    st.caption(f"timm: `{loaded.spec.architecture if loaded.spec.local else loaded.name}` · weights: {loaded.source} · "
               f"device: {loaded.device} · dtype: {str(loaded.dtype).replace('torch.', '')}")
    rows = [{"model": "this model", "layers": f.layers, "hidden size D": f.hidden_size, "MLP size": f.mlp_size,
             "heads": f.heads, "params": f"{f.params / 1e6:.1f}M"}]
    rows += [{"model": f"paper: {name}", "layers": l, "hidden size D": d, "MLP size": m, "heads": h,
              "params": f"{p / 1e6:.0f}M"} for name, l, d, m, h, p in PAPER_TABLE1]
    st.dataframe(rows, hide_index=True, width="stretch", key="vv_facts_table")
    ph, pw = f.patch_size
    head = f"{loaded.num_classes} classes" if loaded.num_classes else "none (backbone)"
    st.markdown(
        f"- **Patch size**: {ph}×{pw} px → grid {f.grid[0]}×{f.grid[1]} = **{f.num_patches} patches**\n"
        f"- **Prefix tokens**: {', '.join(f.prefix_names) or 'none'} ({f.num_prefix_tokens})\n"
        f"- **Sequence length**: {f.tokens} tokens\n"
        f"- **Classifier**: {head}")


sel = current()
header("Model facts", EXPLANATION, sel)
if sel is not None:
    facts(sel)
