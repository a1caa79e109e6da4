"""Renderers: diagnoses as text for people and JSON for scripts."""
