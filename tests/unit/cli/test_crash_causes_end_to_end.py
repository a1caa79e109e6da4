"""A crash refined by its log, through the whole command: a dump on disk → text, JSON, table.

Each CONTRACT §2a code gets a small ``cluster-info dump`` tree written here (a Deployment, its
ReplicaSet, one crash-looping pod and its logs.txt, with a real tail from the corpus), read by
``highpeaks-agent diagnose`` in each output format. The two-workload dump follows a crash to
the Service it could not reach and the failing StatefulSet behind it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from highpeaks_agent.engine.catalogue import CATALOGUE

from ...support.diagnose_cli import Ran, run_in_process
from ..engine.builders import (
    container,
    deployment,
    event,
    pod,
    replicaset,
    revisioned_set,
    running,
    terminated,
    waiting,
)

CORPUS = yaml.safe_load(
    (Path(__file__).parents[1] / "engine" / "crashlogs" / "cases.yaml").read_text(encoding="utf-8")
)
REFINEMENTS = sorted(code for code in CATALOGUE if code.startswith("CrashLoopBackOff."))


def first_tail(code: str) -> str:
    return next(case["log"] for case in CORPUS["crashes"] if case["code"] == code)


def write_dump(
    root: Path, objects: list[dict[str, Any]], logs: dict[str, str], *, container_name: str = "app"
) -> Path:
    """A ``cluster-info dump --output-directory`` tree of one namespace, ``shop``; each log is
    container ``container_name``'s."""
    folder = root / "shop"
    folder.mkdir(parents=True)
    lists = {
        "deployments.json": "Deployment",
        "replicasets.json": "ReplicaSet",
        "statefulsets.json": "StatefulSet",
        "pods.json": "Pod",
        "services.json": "Service",
        "events.json": "Event",
    }
    for file_name, kind in lists.items():
        items = [o for o in objects if o["kind"] == kind]
        document = {"kind": f"{kind}List", "apiVersion": "v1", "items": items}
        (folder / file_name).write_text(json.dumps(document), encoding="utf-8")
    for pod_name, text in logs.items():
        (folder / pod_name).mkdir()
        (folder / pod_name / "logs.txt").write_text(
            f"==== START logs for container {container_name} of pod shop/{pod_name} ====\n"
            f"{text}==== END logs for container {container_name} of pod shop/{pod_name} ====\n",
            encoding="utf-8",
        )
    return root


def crashing_app(
    name: str, log: str, *, labels: dict[str, str] | None = None, **spec: Any
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    dep = deployment(name, containers=[container(**spec)])
    rs = replicaset(dep, "5d4f7b9c8", revision=1)
    p = pod(
        f"{name}-5d4f7b9c8-q2w7x",
        owner=rs,
        statuses=[waiting(restarts=7, last=terminated(1))],
        containers=[container(**spec)],
    )
    p["metadata"]["labels"] = labels or {"app": name}
    return [dep, rs, p], {p["metadata"]["name"]: log}


def diagnose(dump: Path, *args: str) -> Ran:
    ran = run_in_process([str(dump), *args])
    assert ran.code == 1, ran.err
    return ran


@pytest.mark.parametrize("code", REFINEMENTS)
def test_each_refinement_in_text_json_and_table(code: str, tmp_path: Path) -> None:
    objects, logs = crashing_app("checkout", first_tail(code))
    dump = write_dump(tmp_path, objects, logs)

    document = diagnose(dump, "-o", "json").json()  # validated against the JSON Schema
    (only,) = document["diagnoses"]
    root = only["findings"][0]
    assert root["code"] == code
    cause_line = root["evidence"][0]
    assert cause_line and root["suggestion"]

    text = diagnose(dump).out
    assert f"{code} (root cause): {root['title']}" in text
    assert f"| {cause_line}" in text

    header, row = diagnose(dump, "-o", "table").out.splitlines()
    assert header.split()[4] == "ROOT-CAUSE"
    assert row.split()[:5] == ["shop", "Deployment", "checkout", only["severity"], code]


GO_LOG = (
    "2026-11-20T09:59:40Z INFO api 4.2.0 starting\n"
    "panic: failed to connect to `host=db user=api database=shop`: dial error (dial tcp "
    "10.96.12.7:5432: connect: connection refused)\n"
)
JAVA_LOG = (
    "2026-11-20 09:59:41.210 ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed\n"
    "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'dataSource'\n"
    "Caused by: java.net.ConnectException: Connection refused: db/10.96.12.7:5432\n"
    "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n"
    "\t... 42 more\n"
)


def two_workloads(log: str = GO_LOG) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """``api`` crash-loops on connection refused to db:5432; the ``db`` StatefulSet's pod
    cannot pull its image; Service ``db`` selects that pod and has no ready endpoint."""
    objects, logs = crashing_app("api", log)
    db = revisioned_set("StatefulSet", "db", replicas=1)
    image = "registry.example.com/shop/postgres:16.9-missing"
    pull = waiting(
        reason="ImagePullBackOff", message=f'Back-off pulling image "{image}"', restarts=0
    )
    db_pod = pod("db-0", owner=db, phase="Pending", statuses=[pull], started_ago=900)
    db_pod["metadata"]["labels"] = {"app": "db"}
    failed = event(
        db_pod,
        "Failed",
        f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
        f'unpack image "{image}": failed to resolve reference "{image}": not found',
    )
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db", "namespace": "shop", "uid": "svc-db"},
        "spec": {"selector": {"app": "db"}, "clusterIP": "10.96.12.7", "ports": [{"port": 5432}]},
    }
    web = deployment("web", available=1)
    web_rs = replicaset(web, "7f8c9d", revision=1)
    web_pod = pod("web-7f8c9d-abcde", owner=web_rs, statuses=[running()])
    return [*objects, db, db_pod, failed, service, web, web_rs, web_pod], logs


@pytest.mark.parametrize(("log", "host"), [(GO_LOG, "10.96.12.7:5432"), (JAVA_LOG, "db:5432")])
def test_the_crash_names_the_failing_workload_behind_the_service(
    log: str, host: str, tmp_path: Path
) -> None:
    objects, logs = two_workloads(log)
    dump = write_dump(tmp_path, objects, logs)

    document = diagnose(dump, "-o", "json").json()
    by_name = {d["target"]["name"]: d for d in document["diagnoses"]}
    assert set(by_name) == {"api", "db"}
    assert by_name["db"]["findings"][0]["code"] == "ImagePullError.NotFound"
    api = by_name["api"]
    root = api["findings"][0]
    assert root["code"] == "CrashLoopBackOff.DependencyUnreachable"
    assert root["dependency"] == {
        "host": host,
        "service": {"kind": "Service", "namespace": "shop", "name": "db"},
        "serviceExists": True,
        "readyEndpoints": 0,
        "workload": {"kind": "StatefulSet", "namespace": "shop", "name": "db"},
        "workloadRootCause": "ImagePullError.NotFound",
        "workloadTitle": by_name["db"]["findings"][0]["title"],
    }
    assert "Service shop/db: 0 ready endpoints, pods of StatefulSet/shop/db" in root["evidence"]
    assert api["summary"].endswith(
        "It fails because StatefulSet/shop/db is failing: "
        f"{by_name['db']['findings'][0]['title']} (ImagePullError.NotFound)."
    )
    assert root["suggestion"].startswith("StatefulSet/shop/db behind Service/shop/db is failing")

    text = diagnose(dump).out
    assert "It fails because StatefulSet/shop/db is failing" in text

    rows = {
        line.split()[2]: line.split() for line in diagnose(dump, "-o", "table").out.splitlines()
    }
    assert rows["api"][4] == "CrashLoopBackOff.DependencyUnreachable<-StatefulSet/db"
    assert rows["db"][4] == "ImagePullError.NotFound"


def test_a_host_with_no_service_says_so(tmp_path: Path) -> None:
    log = "Error: getaddrinfo ENOTFOUND payments\n    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26)\n"
    objects, logs = crashing_app("checkout", log)
    own = {"kind": "Service", "metadata": {"name": "checkout", "namespace": "shop"}, "spec": {}}
    document = diagnose(write_dump(tmp_path, [*objects, own], logs), "-o", "json").json()
    root = document["diagnoses"][0]["findings"][0]
    assert root["code"] == "CrashLoopBackOff.DependencyUnreachable"
    assert root["dependency"]["service"] == {
        "kind": "Service",
        "namespace": "shop",
        "name": "payments",
    }
    assert root["dependency"]["serviceExists"] is False
    assert "Service shop/payments does not exist" in root["evidence"]
    assert "does not exist: create it" in root["suggestion"]


def test_the_link_is_absent_when_the_workload_behind_is_healthy(tmp_path: Path) -> None:
    objects, logs = two_workloads()
    objects = [
        o for o in objects if o["metadata"]["name"] not in ("db", "db-0") or o["kind"] == "Service"
    ]
    web_labels = {"app": "db"}
    for obj in objects:
        if obj["kind"] == "Pod" and obj["metadata"]["name"].startswith("web-"):
            obj["metadata"]["labels"] = web_labels
            obj["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    document = diagnose(write_dump(tmp_path, objects, logs), "-o", "json").json()
    (api,) = document["diagnoses"]
    dependency = api["findings"][0]["dependency"]
    assert dependency["readyEndpoints"] == 1
    assert dependency["workload"] == {"kind": "Deployment", "namespace": "shop", "name": "web"}
    assert dependency["workloadRootCause"] is None
    assert "It fails because" not in api["summary"]


def init_crashing_app(log: str | None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """``api`` whose init container ``migrate`` crash-loops; ``app`` waits in PodInitializing."""
    migrate = container("migrate", image="registry.example.com/shop/api-migrate:4.2.0")
    dep = deployment("api", containers=[container()])
    dep["spec"]["template"]["spec"]["initContainers"] = [migrate]
    rs = replicaset(dep, "5d4f7b9c8", revision=1)
    p = pod(
        "api-5d4f7b9c8-q2w7x",
        owner=rs,
        phase="Pending",
        init_statuses=[waiting("migrate", restarts=6, last=terminated(1))],
        statuses=[waiting(reason="PodInitializing")],
    )
    p["spec"]["initContainers"] = [migrate]
    p["metadata"]["labels"] = {"app": "api"}
    return [dep, rs, p], ({p["metadata"]["name"]: log} if log is not None else {})


@pytest.mark.parametrize("code", REFINEMENTS)
def test_an_init_containers_log_refines_its_crash_loop(code: str, tmp_path: Path) -> None:
    objects, logs = init_crashing_app(first_tail(code))
    dump = write_dump(tmp_path, objects, logs, container_name="migrate")

    (only,) = diagnose(dump, "-o", "json").json()["diagnoses"]
    root = only["findings"][0]
    assert root["code"] == code
    assert root["title"].startswith("Init container migrate crashes: ")
    assert root["title"].endswith(", so the pod never starts")
    assert "migrate: terminated with exit code 1 (Error), restarted 6 times" in root["evidence"]

    text = diagnose(dump).out
    assert f"{code} (root cause): {root['title']}" in text
    (row,) = diagnose(dump, "-o", "table").out.splitlines()[1:]
    assert row.split()[2:5] == ["api", only["severity"], code]


def test_an_init_container_without_a_log_stays_init_container_failing(tmp_path: Path) -> None:
    objects, logs = init_crashing_app(None)
    (only,) = diagnose(write_dump(tmp_path, objects, logs), "-o", "json").json()["diagnoses"]
    root = only["findings"][0]
    assert root["code"] == "InitContainerFailing"
    assert "kubectl logs api-5d4f7b9c8-q2w7x -n shop -c migrate --previous" in root["suggestion"]


def test_an_init_container_follows_its_crash_to_the_failing_workload_behind(
    tmp_path: Path,
) -> None:
    objects, _ = two_workloads()
    init_objects, init_logs = init_crashing_app(JAVA_LOG)
    api_free = [o for o in objects if not o["metadata"]["name"].startswith("api")]
    dump = write_dump(tmp_path, [*api_free, *init_objects], init_logs, container_name="migrate")

    by_name = {d["target"]["name"]: d for d in diagnose(dump, "-o", "json").json()["diagnoses"]}
    root = by_name["api"]["findings"][0]
    assert root["code"] == "CrashLoopBackOff.DependencyUnreachable"
    assert (
        root["title"]
        == "Init container migrate crashes: cannot reach db:5432, so the pod never starts"
    )
    assert root["dependency"]["workload"] == {
        "kind": "StatefulSet",
        "namespace": "shop",
        "name": "db",
    }
    assert "It fails because StatefulSet/shop/db is failing" in by_name["api"]["summary"]
