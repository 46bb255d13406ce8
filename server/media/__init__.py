"""Media: the content-addressed store, image checks and variants, slogan posters.

Pure modules: paths and streams in, values out; no Flask, no database.
"""
