"""Proof of play: recorded events and the reports that add them up."""
