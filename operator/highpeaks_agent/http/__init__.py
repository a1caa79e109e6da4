"""The HTTP surface: /health, /ready, /assist, /metrics."""
