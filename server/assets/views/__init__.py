"""REST views of the assets domain: records (metadata) and uploads (creation)."""
