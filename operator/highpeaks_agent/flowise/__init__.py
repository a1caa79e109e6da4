"""The Flowise bridge: request context, hardened client, answer parsing."""
