"""Stream names, subjects and the crash backoff, without NATS."""

from __future__ import annotations

import pytest

from services.common.messaging import Names, retry_backoff
from services.common.runtime.types import PodKey
from services.common.settings import SettingsError


class TestNames:
    def test_streams_and_subjects_of_a_deployment(self) -> None:
        names = Names("local")
        assert names.commands_stream == "PODS_LOCAL_COMMANDS"
        assert names.events_stream == "PODS_LOCAL_EVENTS"
        assert names.commands_subjects == "pods.local.commands.>"
        assert names.events_subjects == "pods.local.events.>"
        assert names.command_subject(PodKey("dev", "p1")) == "pods.local.commands.dev.p1"
        assert names.event_subject(PodKey("dev", "p1")) == "pods.local.events.dev.p1"

    def test_dashes_become_underscores_in_stream_names_only(self) -> None:
        names = Names("prod-eu-1")
        assert names.commands_stream == "PODS_PROD_EU_1_COMMANDS"
        assert names.events_stream == "PODS_PROD_EU_1_EVENTS"
        assert names.commands_subjects == "pods.prod-eu-1.commands.>"

    def test_distinct_deployments_get_distinct_streams(self) -> None:
        ids = ["a-b", "ab", "a-b-c", "ab-c", "a-bc", "abc"]
        assert len({Names(i).commands_stream for i in ids}) == len(ids)

    @pytest.mark.parametrize(
        "deployment", ["", "Local", "a_b", "a.b", "-a", "a-", "a b", "a*", "a>", "x" * 101]
    )
    def test_rejects_ids_that_are_not_slugs(self, deployment: str) -> None:
        with pytest.raises(SettingsError, match="PODS_DEPLOYMENT_ID"):
            Names(deployment)


class TestRetryBackoff:
    def test_doubles_from_one_second(self) -> None:
        assert [retry_backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]

    def test_is_capped(self) -> None:
        assert retry_backoff(7) == 60.0
        assert retry_backoff(10_000) == 60.0
        assert retry_backoff(3, base=0.5, cap=1.5) == 1.5

    def test_treats_unknown_counts_as_first_delivery(self) -> None:
        assert retry_backoff(0) == 1.0
        assert retry_backoff(-3) == 1.0
