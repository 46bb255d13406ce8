"""Screens and the fleet: groups, how players join (pairing, enrolment, placement), device
tokens, heartbeats, commands, screenshots and online status."""
