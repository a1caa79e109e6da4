"""Find the cluster the way kubectl does: in-cluster service account, else KUBECONFIG."""

from __future__ import annotations

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException


def make_api_client() -> client.ApiClient:
    """An ApiClient for the in-cluster service account, else ``$KUBECONFIG``/``~/.kube/config``."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except ConfigException:
        config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)
