"""End-to-end tests on a real `dagster dev` (webserver, daemon, code server) and a real browser."""
