"""The Prometheus adapter (services/common/metrics.py): what each recording call moves, read
back from the default registry as a scrape would, and the `/metrics` server."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import REGISTRY

from services.common import metrics
from services.common.outcomes import Done, Failed, Retry
from tests.ports import release_port, reserve_port


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_outcomes_are_labelled_by_kind() -> None:
    assert metrics.outcome_kind(Done("created")) == "done"
    assert metrics.outcome_kind(Retry(reason="busy", delay=1.0)) == "retry"
    assert metrics.outcome_kind(Failed(reason="bad image")) == "failed"
    before = value("pods_reconcile_outcomes_total", kind="failed")
    metrics.count_outcome("failed")
    assert value("pods_reconcile_outcomes_total", kind="failed") == before + 1


def test_only_a_second_delivery_or_later_counts_as_a_redelivery() -> None:
    before = value("pods_command_redeliveries_total")
    metrics.count_delivery(1)
    assert value("pods_command_redeliveries_total") == before
    metrics.count_delivery(3)
    assert value("pods_command_redeliveries_total") == before + 1


def test_exec_in_flight_goes_up_during_the_block_and_down_after() -> None:
    before = value("pods_exec_in_flight")
    with metrics.exec_in_flight():
        assert value("pods_exec_in_flight") == before + 1
    assert value("pods_exec_in_flight") == before


def test_database_sessions_are_timed_by_kind_even_when_they_fail() -> None:
    before = value("pods_db_session_seconds_count", kind="write")
    with pytest.raises(RuntimeError), metrics.db_timed("write"):
        raise RuntimeError("boom")
    assert value("pods_db_session_seconds_count", kind="write") == before + 1


def test_pods_by_status_sets_every_known_status_and_zeroes_the_absent() -> None:
    metrics.set_pods_by_status({"AVAILABLE": 2}, ("AVAILABLE", "ERROR"))
    assert value("pods_by_status", status="AVAILABLE") == 2
    assert value("pods_by_status", status="ERROR") == 0
    metrics.set_pods_by_status({}, ("AVAILABLE", "ERROR"))
    assert value("pods_by_status", status="AVAILABLE") == 0


def test_create_to_available_never_observes_a_negative_time() -> None:
    before = value("pods_create_to_available_seconds_sum")
    count = value("pods_create_to_available_seconds_count")
    metrics.observe_available(-3.0)  # clocks of two machines
    assert value("pods_create_to_available_seconds_sum") == before
    assert value("pods_create_to_available_seconds_count") == count + 1


def test_route_metrics_report_the_table_and_the_publish_time() -> None:
    count = value("pods_route_publish_seconds_count")
    metrics.RouteMetrics().published(routes=3, serving=2, seconds=0.01)
    assert value("pods_route_table_size", state="all") == 3
    assert value("pods_route_table_size", state="serving") == 2
    assert value("pods_route_publish_seconds_count") == count + 1


def test_the_metrics_port_serves_the_text_format_and_zero_serves_nothing() -> None:
    metrics.serve_metrics(0)  # off: no server, no error
    port = reserve_port()
    try:
        metrics.serve_metrics(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    finally:
        release_port(port)
    assert "# TYPE pods_reconcile_outcomes_total counter" in text
    assert "# TYPE pods_db_session_seconds histogram" in text
