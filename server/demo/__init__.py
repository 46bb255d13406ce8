"""The demo: organisations, screens and the Cybersecurity Week campaign, with a real player."""
