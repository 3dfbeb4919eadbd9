"""facility_contact, region.coordination_phone: the numbers a midwife taps to call

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 01:30:00

Each facility's numbers by type (delivery ward, neonatology, stop/capacity coordinator), one per
type, no names and no free text; ``demo`` marks the made-up numbers of the demo data. A region
gets a coordination number: whom to call when a facility has none. Existing deployments start
without numbers (nothing is guessed); the demo seed fills them in development only.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CONTACT_TYPE = sa.Enum('verloskunde', 'neonatologie', 'coordinator', name='contacttype')


def upgrade() -> None:
    op.create_table(
        'facility_contact',
        sa.Column('facility_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('type', CONTACT_TYPE, nullable=False),
        sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('demo', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['facility_id'], ['facility.id']),
        sa.PrimaryKeyConstraint('facility_id', 'type'),
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'coordination_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column('coordination_demo', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_column('coordination_demo')
        batch_op.drop_column('coordination_phone')
    op.drop_table('facility_contact')
    CONTACT_TYPE.drop(op.get_bind(), checkfirst=True)
