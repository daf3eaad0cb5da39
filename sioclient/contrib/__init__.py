"""Integrations with other tools; each module imports its tool, which the core does not need."""
