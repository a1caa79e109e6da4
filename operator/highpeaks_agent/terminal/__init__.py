"""``highpeaks-agent diagnose``: the terminal user's command (CONTRACT §1 and §1a).

``command`` runs it; ``offline`` reads dumps and List files, ``cluster`` reads the cluster of
the user's kubeconfig through the operator's own live reader, ``explaining`` asks the flow,
``console`` owns stderr (one-line errors, warnings, the progress line) and colour. Only
``cluster`` and ``explaining`` import client libraries, and only when they run.
"""
