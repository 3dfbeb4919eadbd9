"""capacity_daily (capacity over time pre-aggregated per finished local day); history indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:00:00

Capacity over time read every ``capacity_change`` row of the range and, to know the state at its
start, grouped all the region's earlier history. Now:
- ``ix_capacity_change_region_at_id`` (region, at, id) replaces (region, at): the history of a
  range in the order it is walked;
- ``ix_capacity_change_last`` (region, facility_id, kind, category, at, id): the last figure of a
  category and the last stop change of a facility before a moment, one index seek each;
- ``capacity_daily`` holds, per region, finished local day, facility, category, state and free
  beds, the time spent so; ``capacity_daily_state`` per region the last day aggregated and the
  freshness limit used. The ``capacity-daily`` scheduler job fills both (the first run
  backfills the whole history); until it has, or after a region's freshness limit changed,
  reads fall back to the history for the days not covered. Nothing is backfilled here.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import capacity.storage.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'capacity_daily',
        sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('facility_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('available', sa.Integer(), nullable=False),
        sa.Column('week', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('microseconds', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('region', 'day', 'facility_id', 'category', 'state', 'available'),
    )
    op.create_table(
        'capacity_daily_state',
        sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('through', sa.Date(), nullable=False),
        sa.Column('freshness_limit_minutes', sa.Integer(), nullable=False),
        sa.Column('updated_at', capacity.storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('region'),
    )
    # capacity_change is append-only (triggers): plain index changes, no table rebuild
    op.create_index(
        'ix_capacity_change_region_at_id', 'capacity_change', ['region', 'at', 'id']
    )
    op.create_index(
        'ix_capacity_change_last', 'capacity_change',
        ['region', 'facility_id', 'kind', 'category', 'at', 'id'],
    )
    op.drop_index('ix_capacity_change_region_at', table_name='capacity_change')


def downgrade() -> None:
    op.create_index('ix_capacity_change_region_at', 'capacity_change', ['region', 'at'])
    op.drop_index('ix_capacity_change_last', table_name='capacity_change')
    op.drop_index('ix_capacity_change_region_at_id', table_name='capacity_change')
    op.drop_table('capacity_daily_state')
    op.drop_table('capacity_daily')
