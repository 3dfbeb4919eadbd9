"""api_key.last_used_at: when a hospital's system last used its key (admin screen)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:30:00

Written at most once a minute per key, outside the write path (``capacity.auth.usage``).
Existing keys start unknown (null).
"""

import sqlalchemy as sa
from alembic import op

from capacity.storage.types import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
