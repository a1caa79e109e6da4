"""Notifications out: one message per IncidentNote to a JSON webhook and to Slack."""
