# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.release_labels import release_labels


def test_every_service_gets_the_labels_and_keeps_its_own() -> None:
    definition = {
        "version": "3.9",
        "services": {
            "web": {"image": "r/web@sha256:1", "deploy": {"replicas": 2, "labels": {"traefik.enable": "true"}}},
            "redis": {"image": "r/redis@sha256:2"},
        },
        "volumes": {"data": {}},
    }
    labelled = release_labels(definition, {"io.drover.release": 4, "io.drover.version": "1.2.0"})
    assert labelled["services"]["web"]["deploy"] == {
        "replicas": 2,
        "labels": {"traefik.enable": "true", "io.drover.release": "4", "io.drover.version": "1.2.0"},
    }
    redis_labels = labelled["services"]["redis"]["deploy"]["labels"]
    assert redis_labels == {"io.drover.release": "4", "io.drover.version": "1.2.0"}
    assert labelled["volumes"] == {"data": {}}
    # The input is left as it was.
    assert definition["services"]["redis"] == {"image": "r/redis@sha256:2"}
    assert "io.drover.release" not in definition["services"]["web"]["deploy"]["labels"]


def test_a_given_label_wins_over_the_service_s() -> None:
    definition = {"services": {"web": {"deploy": {"labels": {"io.drover.release": "1"}}}}}
    assert release_labels(definition, {"io.drover.release": "2"})["services"]["web"]["deploy"]["labels"] == {
        "io.drover.release": "2"
    }


def test_kubernetes_objects_get_the_labels_on_their_metadata_only() -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo-dev"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web", "io.drover.release": "1"}},
            "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}},
        },
    ]
    labelled = release_labels(manifests, {"io.drover.release": 5, "io.drover.version": "2.0.0"})
    assert labelled[0]["metadata"]["labels"] == {"io.drover.release": "5", "io.drover.version": "2.0.0"}
    assert labelled[1]["metadata"]["labels"] == {
        "app.kubernetes.io/name": "web",
        "io.drover.release": "5",
        "io.drover.version": "2.0.0",
    }
    # A new release number alone must not change the pod template (it would roll every pod).
    assert labelled[1]["spec"]["template"]["metadata"]["labels"] == {"app.kubernetes.io/name": "web"}
    assert manifests[1]["metadata"]["labels"]["io.drover.release"] == "1"


@pytest.mark.parametrize(
    ("definition", "labels", "message"),
    [
        pytest.param({"version": "3.9"}, {}, "with a services mapping", id="no-services"),
        pytest.param({"services": {"web": {}}}, ["a"], "labels as a mapping", id="labels-list"),
        pytest.param({"services": {"web": "nginx"}}, {}, "service web", id="service-not-mapping"),
        pytest.param([{"kind": "Service"}, "nginx"], {}, "manifest 1", id="manifest-not-mapping"),
        pytest.param([{"metadata": ["x"]}], {}, "manifest 0", id="metadata-not-mapping"),
    ],
)
def test_bad_input(definition: Any, labels: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        release_labels(definition, labels)
