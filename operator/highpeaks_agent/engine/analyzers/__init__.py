"""Analyzers, one module per family of causes; each returns findings for one pod or workload."""
