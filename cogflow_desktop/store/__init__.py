"""Persistence: typed models, the engine, migrations. Imports no Qt."""

from cogflow_desktop.store.engine import make_engine, make_session_factory, transaction

__all__ = ["make_engine", "make_session_factory", "transaction"]
