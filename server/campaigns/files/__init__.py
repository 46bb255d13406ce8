"""Campaign files: read, check, plan, apply, export."""
