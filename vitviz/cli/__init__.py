"""The command line, ``python -m vitviz`` / ``vitviz``: the parser and small commands (``main``), ``analyze`` and
``cnn`` (``analyze``), ``trace`` (``trace``), and what the commands share (``common``).
"""
