"""Alembic environment: run against the connection handed in by store.migrate."""

from alembic import context

from cogflow_desktop.store.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
