"""Alerts: users' subscriptions to rules, edge-triggered evaluation, delivery through an outbox."""
