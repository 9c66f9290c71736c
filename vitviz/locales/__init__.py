"""Interface text catalogues, one module per language (see vitviz.i18n)."""
