"""Interface text: the gettext catalogues (``locales/``) and their lookup (``i18n``), and names that come
from data shown in the interface's language (``names``).
"""
