"""Alerts: rules per organisation (inherited by its subtree), incidents opened and resolved
once each, and their delivery by webhook and e-mail, exactly once per channel."""
