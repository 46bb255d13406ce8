"""Standalone playlists and each organisation's default playlist."""
