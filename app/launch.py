"""``vitviz serve [streamlit options]``: the dashboard's server from an installed package, from any directory.

Streamlit reads ``.streamlit/config.toml`` from the working directory only, so an installed dashboard
would lose its settings (upload limit, no file watcher, no per-run full GC, the theme) anywhere but the
repository. This passes the package's ``config.toml`` (the one file; the repository's
``.streamlit/config.toml`` links to it) as command-line options, which the user's own options follow and
override.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config.toml"
SERVER = HERE / "serve.py"


def read_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the parser Streamlit itself depends on
        import toml

        return toml.loads(path.read_text(encoding="utf-8"))
    return tomllib.loads(path.read_text(encoding="utf-8"))


def config_options(path: Path = CONFIG) -> list[str]:
    """``--section.key=value`` for every setting of a Streamlit config file (booleans as ``true``/``false``)."""
    options = []
    for section, values in read_toml(path).items():
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            options.append(f"--{section}.{key}={text}")
    return options


def command(args: Sequence[str] = ()) -> list[str]:
    """The ``streamlit`` arguments ``vitviz serve`` runs: this package's server, its configuration, then ``args``."""
    return ["run", str(SERVER), *config_options(), *args]


def main(args: Sequence[str] = ()) -> int:
    from streamlit.web import cli as streamlit_cli

    result = streamlit_cli.main.main(args=command(args), prog_name="streamlit", standalone_mode=False)
    return int(result or 0)
