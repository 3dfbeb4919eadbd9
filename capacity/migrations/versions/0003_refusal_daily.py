"""refusal_daily (statistics pre-aggregated per day, kept by triggers); request_type optional

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:50:00

The statistics read ``refusal_daily``: per region, dimension, local day, bucket and decision the
number of records, of those shown green/orange, and of those without an episode token. Triggers
on ``refusal`` keep it in the same transaction as every insert, delete and change of a counted
column (so it can never disagree with the records); the migration fills it from existing rows.
What cannot be summed per day stays on ``refusal`` with partial indexes: distinct episodes
(searches) and the outcomes (latest per search, medians).
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COUNTED = (
    'region', 'occurred_on', 'facility_id', 'category', 'request_type', 'reason', 'decision',
    'shown_status', 'occurred_hour', 'episode',
)
COLUMNS = (
    'region, dim, occurred_on, bucket, decision, occurred_weekday, occurred_week, '
    'occurred_month, n, n_shown, n_no_episode'
)
# dimension -> the bucket expression over a refusal row ("{r}" is NEW, OLD or the table)
DIMS = {
    'all': "''",
    'facility': '{r}.facility_id',
    'reason': "COALESCE({r}.reason, '')",
    'request_type': "COALESCE({r}.request_type, '')",
    'category': '{r}.category',
    'hour': 'CAST({r}.occurred_hour AS VARCHAR(2))',
}
SHOWN = "CASE WHEN {r}.shown_status IN ('green', 'orange') THEN 1 ELSE 0 END"
NO_EPISODE = 'CASE WHEN {r}.episode IS NULL THEN 1 ELSE 0 END'
UPSERT = (
    ' ON CONFLICT (region, dim, occurred_on, bucket, decision) DO UPDATE SET'
    ' n = refusal_daily.n + excluded.n,'
    ' n_shown = refusal_daily.n_shown + excluded.n_shown,'
    ' n_no_episode = refusal_daily.n_no_episode + excluded.n_no_episode'
)


def _apply(r: str, sign: int) -> str:
    """One upsert adding (sign 1) or removing (sign -1) row ``r`` to/from its six buckets."""
    values = ', '.join(
        f"({r}.region, '{dim}', {r}.occurred_on, {bucket.format(r=r)}, {r}.decision, "
        f'{r}.occurred_weekday, {r}.occurred_week, {r}.occurred_month, {sign}, '
        f'{sign} * {SHOWN.format(r=r)}, {sign} * {NO_EPISODE.format(r=r)})'
        for dim, bucket in DIMS.items()
    )
    return f'INSERT INTO refusal_daily ({COLUMNS}) VALUES {values}{UPSERT};'


def _backfill() -> str:
    r = 'refusal'
    parts = [
        f"SELECT region, '{dim}', occurred_on, {bucket.format(r=r)}, decision, "
        'MIN(occurred_weekday), MIN(occurred_week), MIN(occurred_month), COUNT(*), '
        f'SUM({SHOWN.format(r=r)}), SUM({NO_EPISODE.format(r=r)}) FROM refusal '
        'GROUP BY 1, 3, 4, 5'
        for dim, bucket in DIMS.items()
    ]
    return f'INSERT INTO refusal_daily ({COLUMNS}) ' + ' UNION ALL '.join(parts)


def _create_triggers() -> None:
    counted = ', '.join(COUNTED)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'CREATE TRIGGER refusal_daily_insert AFTER INSERT ON refusal '
            f"BEGIN {_apply('NEW', 1)} END"
        )
        op.execute(
            'CREATE TRIGGER refusal_daily_delete AFTER DELETE ON refusal '
            f"BEGIN {_apply('OLD', -1)} END"
        )
        op.execute(
            f'CREATE TRIGGER refusal_daily_update AFTER UPDATE OF {counted} ON refusal '
            f"BEGIN {_apply('OLD', -1)} {_apply('NEW', 1)} END"
        )
        return
    op.execute(
        'CREATE FUNCTION refusal_daily_keep() RETURNS trigger AS $$ BEGIN '
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_apply('OLD', -1)} END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_apply('NEW', 1)} END IF; "
        'RETURN NULL; END; $$ LANGUAGE plpgsql'
    )
    op.execute(
        f'CREATE TRIGGER refusal_daily_keep AFTER INSERT OR DELETE OR UPDATE OF {counted} '
        'ON refusal FOR EACH ROW EXECUTE FUNCTION refusal_daily_keep()'
    )


def upgrade() -> None:
    op.create_table('refusal_daily',
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dim', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('occurred_weekday', sa.Integer(), nullable=False),
    sa.Column('occurred_week', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('occurred_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_shown', sa.Integer(), nullable=False),
    sa.Column('n_no_episode', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('region', 'dim', 'occurred_on', 'bucket', 'decision')
    )
    # The wide covering index served the old GROUP BY queries; the daily table does now.
    op.drop_index('ix_refusal_stats', table_name='refusal')
    op.drop_index('ix_refusal_outcomes', table_name='refusal')
    with op.batch_alter_table('refusal', schema=None) as batch_op:
        # null = request type not recorded (the midwife's 3-tap flow makes it optional)
        batch_op.alter_column('request_type', existing_type=sa.String(length=24), nullable=True)
    op.create_index('ix_refusal_region_occurred_on', 'refusal', ['region', 'occurred_on'])
    op.create_index(
        'ix_refusal_recorded_by_occurred_at', 'refusal', ['recorded_by', 'occurred_at']
    )
    # distinct episodes of refusals (searches), read from the index only
    op.create_index(
        'ix_refusal_searches', 'refusal', ['region', 'occurred_on', 'episode'],
        sqlite_where=sa.text("decision = 'refused' AND episode IS NOT NULL"),
        postgresql_where=sa.text("decision = 'refused' AND episode IS NOT NULL"),
    )
    # every column the outcomes need, so they too are read from the index only
    op.create_index(
        'ix_refusal_outcomes', 'refusal',
        ['region', 'occurred_on', 'episode', 'id', 'outcome_at', 'outcome',
         'placed_outside_region', 'calls_until_placement', 'minutes_until_placement'],
        sqlite_where=sa.text('outcome IS NOT NULL'),
        postgresql_where=sa.text('outcome IS NOT NULL'),
    )
    op.execute(_backfill())
    _create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for verb in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER refusal_daily_{verb}')
    else:
        op.execute('DROP TRIGGER refusal_daily_keep ON refusal')
        op.execute('DROP FUNCTION refusal_daily_keep()')
    op.drop_index('ix_refusal_outcomes', table_name='refusal')
    op.drop_index('ix_refusal_searches', table_name='refusal')
    op.drop_index('ix_refusal_recorded_by_occurred_at', table_name='refusal')
    op.drop_index('ix_refusal_region_occurred_on', table_name='refusal')
    # request_type stays nullable: records without one cannot be given a made-up type.
    op.create_index(
        'ix_refusal_outcomes', 'refusal', ['region', 'occurred_on'],
        sqlite_where=sa.text('outcome IS NOT NULL'),
        postgresql_where=sa.text('outcome IS NOT NULL'),
    )
    op.create_index('ix_refusal_stats', 'refusal', [
        'region', 'occurred_on', 'decision', 'shown_status', 'facility_id', 'reason',
        'request_type', 'category', 'occurred_week', 'occurred_month', 'occurred_hour',
        'occurred_weekday', 'episode',
    ])
    op.drop_table('refusal_daily')
