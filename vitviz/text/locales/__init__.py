"""The interface texts as gettext catalogues (data, no code): ``<lang>/LC_MESSAGES/vitviz.po`` per language and
``vitviz.pot``, the template for a new one. :mod:`vitviz.text.i18n` reads them; README, "Adding a language or a text"."""
