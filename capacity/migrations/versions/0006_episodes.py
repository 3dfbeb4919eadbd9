"""episode: server-issued episode tokens; stored episodes replaced by random ones

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01 23:00:00

A refusal's ``episode`` was any 8-64 characters the client sent, and names, citizen numbers and
phone numbers were stored that way. From now on only a token from ``POST /api/v1/episodes`` (128
random bits, held in ``episode`` with the account it was issued to) is accepted. Episodes already
stored are replaced, each distinct value by a new random token, so the searches they grouped stay
grouped and what was typed is gone from ``refusal`` (and so from every export). The tokens made
here are issued to the account that recorded the search's first refusal and are already expired.

The audit trail is append-only (its triggers refuse UPDATE): copies of old values in the
``detail`` of ``refusal.create`` events are not touched here; erasing them is a decision for the
data protection officer, not a schema migration.
"""

import secrets

import sqlalchemy as sa
from alembic import op

import capacity.storage.types

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'episode',
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('issued_by', sa.Integer(), nullable=False),
        sa.Column('issued_at', capacity.storage.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', capacity.storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('token'),
    )
    _replace_stored_episodes()


def _replace_stored_episodes() -> None:
    bind = op.get_bind()
    first = sa.text(
        'SELECT episode, MIN(recorded_by), MIN(recorded_at) FROM refusal'
        ' WHERE episode IS NOT NULL GROUP BY episode'
    ).columns(
        sa.column('episode', sa.String),
        sa.column('recorded_by', sa.Integer),
        sa.column('first_at', capacity.storage.types.UTCDateTime()),
    )
    searches = bind.execute(first).all()
    episode = sa.table(
        'episode',
        sa.column('token', sa.String),
        sa.column('issued_by', sa.Integer),
        sa.column('issued_at', capacity.storage.types.UTCDateTime()),
        sa.column('expires_at', capacity.storage.types.UTCDateTime()),
    )
    for old, recorded_by, first_at in searches:
        token = secrets.token_hex(16)
        bind.execute(
            episode.insert().values(
                token=token, issued_by=recorded_by, issued_at=first_at, expires_at=first_at
            )
        )
        bind.execute(
            sa.text('UPDATE refusal SET episode = :new WHERE episode = :old'),
            {'new': token, 'old': old},
        )


def downgrade() -> None:
    # The random tokens stay on the refusals: the typed values are not coming back.
    op.drop_table('episode')
