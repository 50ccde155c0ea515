"""The settings of health's loop and of automatic restarts (part of `Settings`, models.py)."""

from __future__ import annotations

from pydantic import Field

from services.common.restarts import RestartPolicy
from services.common.settings.base import SettingsGroup


class HealthSettings(SettingsGroup):
    """The health loop: resync, readiness probing, drift."""

    resync_interval: float = Field(
        5.0,
        description="seconds between health's incremental resyncs (the pods in motion, and"
        " new output of running pods)",
    )
    resync_full_interval: float = Field(
        60.0,
        description="seconds between full comparisons of every pod with its container (and"
        " orphans); also on HealthService.Resync",
    )
    probe_interval: float = Field(
        0.01,
        description="readiness probe interval of a starting pod during its first"
        " probe_fast_window seconds, seconds",
    )
    probe_fast_window: float = Field(
        0.5,
        description="seconds a starting pod is probed every probe_interval before the"
        " interval grows by half at each probe up to probe_interval_max",
    )
    probe_interval_max: float = Field(1.0, description="the longest readiness probe delay, seconds")
    drift_grace: float = Field(
        10.0, description="seconds before a stuck pod's command is published again"
    )


class RestartSettings(SettingsGroup):
    """Restarts of containers that ended by themselves (services/common/restarts.py)."""

    restart_backoff: float = Field(
        10.0,
        description="seconds before the second restart in a row (doubling for each further one)",
    )
    restart_backoff_max: float = Field(
        300.0, description="the longest wait between two restarts, seconds"
    )
    restart_reset: float = Field(
        600.0, description="seconds a run must stay up to end a streak of restarts"
    )

    @property
    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(
            base=self.restart_backoff, cap=self.restart_backoff_max, reset_after=self.restart_reset
        )
