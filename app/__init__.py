"""The vitviz dashboard (Streamlit): installed as the package ``vitviz_dashboard``, kept in ``app/`` in the repository.

- ``serve.py`` — the server script (``streamlit run app/serve.py``, or ``vitviz serve`` from an install):
  ``st.App`` with a start-up warm-up around ``vitviz_app.py``, the frame every page runs in.
- ``launch.py`` — ``vitviz serve``: the server with this package's ``config.toml``, from any directory.
- ``compute.py`` — the service layer: every computation the sessions share (models, analyses and what derives from
  them), cached in ``caches.py`` (the byte-bounded stores and their budgets) under keys from the ``Selection``
  (``selection.py``: model, image, size; samples and uploads); ``devices.py`` is the device policy (``auto``, GPU
  out of memory).
- ``sidebar.py`` (model, image, size: one ``Selection`` per run), ``params.py`` (every view setting in the
  URL), ``frame.py`` (a page's frame: CSS, header, titles,
  the run's selection, presenter sizing, guarded fragments), ``controls.py`` (control rows, layer and head),
  ``widgets.py`` (a figure or map picture with its downloads), ``guard.py`` (the error guard),
  ``map_view.py`` (the clickable map component).
- ``views/`` — one script per page; a page wires widgets to ``vitviz`` and draws with its figure builders.
"""
