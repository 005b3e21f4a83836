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


@pytest.mark.parametrize(
    ("definition", "labels", "message"),
    [
        pytest.param({"version": "3.9"}, {}, "with a services mapping", id="no-services"),
        pytest.param({"services": {"web": {}}}, ["a"], "labels as a mapping", id="labels-list"),
        pytest.param({"services": {"web": "nginx"}}, {}, "service web", id="service-not-mapping"),
    ],
)
def test_bad_input(definition: Any, labels: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        release_labels(definition, labels)
