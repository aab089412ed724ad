"""console: API token names (the audit log's actor) and stored Autotask names

Revision ID: 0013
Revises: 0012

Tokens created before this revision have no name: the audit log keeps calling them
"token #N (hint…)". Autotask names start empty and are read on the next mapping, reconciliation
or page that needs them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contractsync.adapters.db.types import UtcDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("name", sa.String(length=60), nullable=True))
        batch.create_unique_constraint("uq_api_tokens_name", ["name"])
    op.create_table(
        "autotask_names",
        sa.Column("connection_id", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("refreshed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name="fk_autotask_names_connection_id_connections"
        ),
        sa.PrimaryKeyConstraint("connection_id", "entity", "entity_id", name="pk_autotask_names"),
    )


def downgrade() -> None:
    op.drop_table("autotask_names")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("uq_api_tokens_name", type_="unique")
        batch.drop_column("name")
