"""The Kopf operator: AgentTask lifecycle, incident detection, Events."""
