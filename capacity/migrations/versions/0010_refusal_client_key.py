"""refusal.client_key: a record sent twice (an offline queue, a lost answer) is stored once

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:30:00

The phone makes a random UUID when she taps and sends it with the record; a repeated POST with
the same key from the same account answers the stored record. The unique index on
(recorded_by, client_key) holds that rule when two sends race (two tabs flushing one queue);
records without a key (NULL) are not constrained, as before.

Plain ALTER TABLE, no batch mode: a batch drop on SQLite copies the table and would lose the
refusal_daily triggers (SQLite >= 3.35 drops a column in place).
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('refusal', sa.Column('client_key', sa.String(length=36), nullable=True))
    op.create_index(
        'ux_refusal_recorded_by_client_key', 'refusal', ['recorded_by', 'client_key'], unique=True
    )


def downgrade() -> None:
    op.drop_index('ux_refusal_recorded_by_client_key', table_name='refusal')
    op.drop_column('refusal', 'client_key')
