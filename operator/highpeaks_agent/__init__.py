"""highpeaks-devops-agent: explains failing Pods and Deployment rollouts."""

__version__ = "0.1.0"
