"""api_key_facility (hospital group keys), capacity_figure.measured_at

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 04:45:00

A group key is bound to each facility it may push and read for by one ``api_key_facility`` row;
existing keys have none and stay bound to ``api_key.facility_id`` alone. ``measured_at`` is when
a hospital's system measured a figure (its freshness counts from then); null for figures sent
without one, whose freshness counts from ``updated_at`` as before. Nothing to backfill.
"""

import sqlalchemy as sa
from alembic import op

from capacity.storage.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key_facility",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"]),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"]),
        sa.PrimaryKeyConstraint("api_key_id", "facility_id"),
    )
    # A facility's keys, group keys included (labels beside its figures, the admin's list).
    op.create_index("ix_api_key_facility_facility_id", "api_key_facility", ["facility_id"])
    with op.batch_alter_table("capacity_figure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measured_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("capacity_figure", schema=None) as batch_op:
        batch_op.drop_column("measured_at")
    op.drop_index("ix_api_key_facility_facility_id", table_name="api_key_facility")
    op.drop_table("api_key_facility")
