"""What an installation's IT runs the product with: probes (/healthz, /readyz), the beat
heartbeat, Prometheus metrics, logs without personal data, backups. See docs/operations.md."""
