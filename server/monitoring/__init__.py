"""Monitoring: the process's Prometheus instruments and the `/metrics` endpoint."""
