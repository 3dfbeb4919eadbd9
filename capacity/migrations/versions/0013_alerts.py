"""alert_subscription, alert (inbox and delivery outbox), overdue_episode

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 02:30:00

Users subscribe to rules (a facility on stop, a region's free beds of a category below K, a
facility's figures stale, a facility overdue) on a channel (app, e-mail, webhook). Each fired
alert is one ``alert`` row, unique per subscription and event, which the delivery job drains;
``overdue_episode`` holds each facility with no fresh figure and since when. Nothing to backfill.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import capacity.storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

RULE = sa.Enum(
    "facility_stop",
    "region_free_below",
    "facility_stale",
    "overdue",
    "transfer_request",
    name="alertrule",
)
CHANNEL = sa.Enum("app", "email", "webhook", name="channel")
STATUS = sa.Enum("pending", "sent", "dead", "dropped", name="deliverystatus")
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
        "alert_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rule", RULE, nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("facility_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("category", CATEGORY, nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME(), nullable=False),
        sa.Column("deleted_at", UTC_DATETIME(), nullable=True),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"]),
        sa.ForeignKeyConstraint(["region"], ["region.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_subscription_region", "alert_subscription", ["region"])
    op.create_index("ix_alert_subscription_user_id", "alert_subscription", ["user_id"])
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("rule", RULE, nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_at", UTC_DATETIME(), nullable=False),
        sa.Column("sent_at", UTC_DATETIME(), nullable=True),
        sa.Column("read_at", UTC_DATETIME(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["alert_subscription.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "event_key"),
    )
    op.create_index("ix_alert_status", "alert", ["status"])
    op.create_index("ix_alert_subscription_id", "alert", ["subscription_id"])
    op.create_index("ix_alert_user_id", "alert", ["user_id"])
    op.create_table(
        "overdue_episode",
        sa.Column("facility_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("since", UTC_DATETIME(), nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["facility.id"]),
        sa.ForeignKeyConstraint(["region"], ["region.id"]),
        sa.PrimaryKeyConstraint("facility_id"),
    )
    op.create_index("ix_overdue_episode_region", "overdue_episode", ["region"])


def downgrade() -> None:
    op.drop_index("ix_overdue_episode_region", table_name="overdue_episode")
    op.drop_table("overdue_episode")
    op.drop_index("ix_alert_user_id", table_name="alert")
    op.drop_index("ix_alert_subscription_id", table_name="alert")
    op.drop_index("ix_alert_status", table_name="alert")
    op.drop_table("alert")
    op.drop_index("ix_alert_subscription_user_id", table_name="alert_subscription")
    op.drop_index("ix_alert_subscription_region", table_name="alert_subscription")
    op.drop_table("alert_subscription")
    for kind in (STATUS, CHANNEL, RULE):
        kind.drop(op.get_bind(), checkfirst=True)
