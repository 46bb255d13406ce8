"""Campaigns: files (schema, check, plan, apply, export), the publishing workflow, and what is live.

`server.campaigns.publications` is what manifests and previews read: the rules and playlists of
every published campaign, as their publications froze them.
"""
