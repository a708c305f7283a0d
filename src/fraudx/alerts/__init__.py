"""Alerts: rules over registry events, subscriptions and watchlists, delivery that never drops."""
