"""ward_mapping, bed_import: hospitals' bed lists mapped ward by ward to categories

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:45:00

A facility's ward codes (as its patient-record system names them) each count for one category;
the figures of a bed list are derived from the mapped wards. ``bed_import`` keeps the hash of the
last list a facility's figures came from, so that the same list again is a confirmation.
Existing deployments start without mappings (nothing is guessed) and without imports.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import capacity.storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Made by 0001 already: PostgreSQL must not create it again.
CATEGORY = postgresql.ENUM(
    "delivery_room",
    "maternity_bed",
    "obstetric_high_care",
    "neonatal_high_care",
    "nicu",
    name="category",
    create_type=False,
)
UTC_DATETIME = capacity.storage.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "ward_mapping",
        sa.Column("facility_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ward", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("category", CATEGORY, nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"]),
        sa.PrimaryKeyConstraint("facility_id", "ward"),
    )
    op.create_table(
        "bed_import",
        sa.Column("facility_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", UTC_DATETIME(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"]),
        sa.PrimaryKeyConstraint("facility_id"),
    )


def downgrade() -> None:
    op.drop_table("bed_import")
    op.drop_table("ward_mapping")
