"""Assets: one ingest path for images and slogans, renders and screen variants, and
collecting stored bytes no one needs."""
