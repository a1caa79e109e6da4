"""The rules, one module per family of causes (the catalogue's families).

``context`` holds what the rules read (a pod, a container, a workload) and the rule types;
``registry`` runs the rules in their one order. Each family module holds small rules over one
context: ``images``, ``config``, ``startup``, ``crashes``, ``probes``, ``scheduling`` and
``controllers``.
"""
