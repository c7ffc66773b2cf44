"""reviewmon's service layer: every rule lives here; the CLI, web app and scheduler only call it."""

__version__ = "0.1.0"
