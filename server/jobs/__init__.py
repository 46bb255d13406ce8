"""Timed server work, run by exactly one process."""
