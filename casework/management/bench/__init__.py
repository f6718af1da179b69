"""What `manage.py benchmark` serves and drives, kept out of the product: the floor view and
its URLconf, the settings module that selects it (only the benchmark's gunicorn is started
with it), and the HTTP load generator (docs/performance.md)."""
