"""vitviz: open up pretrained Vision Transformers.

The library core behind the dashboard. Import what you need from its modules:

- :mod:`vitviz.loading.models`     load timm models from a local weights folder or the hub
- :mod:`vitviz.inputs.preprocess` image → network input (and back), token layout
- :mod:`vitviz.run.capture`    logits + per-block attention in one forward pass
- :mod:`vitviz.analysis`   patchify, filters, position embeddings, rollout, distances, facts
- :mod:`vitviz.run.pipeline`   everything for one image or a folder, as the CLI and app use it

Importing ``vitviz`` itself loads neither torch, timm nor Streamlit.
"""
__version__ = "0.1.0"
