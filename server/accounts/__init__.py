"""Organisations, users, memberships and API tokens."""
