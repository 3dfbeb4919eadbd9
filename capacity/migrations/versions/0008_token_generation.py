"""user.token_generation: revoking an account's tokens survives its reactivation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:00:00

Every token carries the account's ``token_generation`` of when it was issued; a deactivation
(and later a password change) raises it, so tokens issued before stay refused even once the
account is active again. Existing accounts start at 0, as do tokens issued before this
migration (they carry no generation), so no one is signed out by the upgrade itself.
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_generation', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('token_generation')
