"""The dashboard's pages, one script each, run by ``st.navigation`` (``vitviz_app.py`` lists them)."""
