"""The command line, ``python -m vitviz`` / ``vitviz``: the parser and the commands (``main``), the
``trace`` command.
"""
