"""The `mcm-tui` guided session: plain session state and atomic exports here, the Textual app in ``app.py``."""
