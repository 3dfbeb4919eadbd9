"""transfer_request, transfer_offer, region.transfer_deadline_minutes: parallel transfer requests

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 02:10:47

One request (closed-list facts and a coarse origin, nothing about the woman) sent to several
wards at once; one offer per ward asked. A region may set its own answer deadline (null: the
setting, 5 minutes). New tables only: existing data is untouched.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import capacity.storage.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transfer_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('request_type', sa.String(length=24), nullable=False),
    sa.Column('ga_band', sa.String(length=8), nullable=True),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('origin_lat', sa.Float(), nullable=True),
    sa.Column('origin_lon', sa.Float(), nullable=True),
    sa.Column('origin_city', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', capacity.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('placed_at', capacity.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('placed_facility_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('deadline_minutes', sa.Integer(), nullable=False),
    sa.Column('episode', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['placed_facility_id'], ['facility.id'], ),
    sa.ForeignKeyConstraint(['region'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transfer_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_request_created_by'), ['created_by'], unique=False)
        batch_op.create_index('ix_transfer_request_region_created_at', ['region', 'created_at'], unique=False)

    op.create_table('transfer_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sent_at', capacity.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', capacity.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=24), nullable=True),
    sa.Column('answered_at', capacity.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['transfer_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'facility_id', name='uq_transfer_offer_request_facility')
    )
    with op.batch_alter_table('transfer_offer', schema=None) as batch_op:
        batch_op.create_index('ix_transfer_offer_facility_status', ['facility_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_offer_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_transfer_offer_status_deadline', ['status', 'deadline_at'], unique=False)

    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_deadline_minutes', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_column('transfer_deadline_minutes')

    with op.batch_alter_table('transfer_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_offer_status_deadline')
        batch_op.drop_index(batch_op.f('ix_transfer_offer_request_id'))
        batch_op.drop_index('ix_transfer_offer_facility_status')

    op.drop_table('transfer_offer')
    with op.batch_alter_table('transfer_request', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_request_region_created_at')
        batch_op.drop_index(batch_op.f('ix_transfer_request_created_by'))

    op.drop_table('transfer_request')
