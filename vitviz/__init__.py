"""vitviz: open up pretrained Vision Transformers.

The library core behind the dashboard, grouped by layer (README's "Code layout"):

- :mod:`vitviz.loading`   which models exist, their weights, building and loading them (``loading.models.load_model``)
- :mod:`vitviz.inputs`    safe image reading, the samples, preprocessing and token layout
- :mod:`vitviz.analysis`  pure analyses: patches, filters, position embeddings, rollout, distances, sinks, tokens
- :mod:`vitviz.run`       running a model: capture, per-image/per-dataset pipeline, explanations, trace, distance runs
- :mod:`vitviz.figures`   plotly figure builders and pictures, the paper's figures, the HTML report
- :mod:`vitviz.text`      interface text (gettext catalogues) and names in the interface's language
- :mod:`vitviz.talk`      the talk's slides and .pptx
- :mod:`vitviz.cli`       ``python -m vitviz``

Importing ``vitviz`` itself loads neither torch, timm nor Streamlit.
"""
__version__ = "0.1.0"
