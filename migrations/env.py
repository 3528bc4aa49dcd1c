"""Alembic environment: the URL comes from the caller (``peta112 db migrate``)."""

from alembic import context
from sqlalchemy import pool

from app.db.engine import make_engine
from app.models import metadata

config = context.config
target_metadata = metadata


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS, pgRouting and TIGER tables are owned by extensions, not by us.
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata,
                              include_object=include_object, transaction_per_migration=False)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
