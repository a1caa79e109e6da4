"""Alertmanager in: alerts that name a workload become AgentTasks (``POST /alertmanager``)."""
