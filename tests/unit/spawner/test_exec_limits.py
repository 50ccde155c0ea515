"""ExecAdmission: per-pod, per-user and total limits, each named when reached, and every slot
given back when a command ends (also by an error)."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from services.common.runtime.types import PodKey
from services.spawner.exec_limits import ExecAdmission, ExecLimitReached, ExecLimits

POD_A, POD_B, POD_C = PodKey("dev", "a"), PodKey("dev", "b"), PodKey("dev", "c")


def refused(admission: ExecAdmission, key: PodKey, user: str) -> str:
    """The message of the refusal of one more exec (which must be refused)."""
    with pytest.raises(ExecLimitReached) as info, admission.admit(key, user):
        pass
    return str(info.value)


def test_the_per_pod_limit_is_named_and_other_pods_still_run() -> None:
    admission = ExecAdmission(ExecLimits(per_pod=2, per_user=10, total=10))
    with ExitStack() as running:
        running.enter_context(admission.admit(POD_A, "alice"))
        running.enter_context(admission.admit(POD_A, "bob"))
        assert "PODS_EXEC_MAX_PER_POD" in refused(admission, POD_A, "carol")
        running.enter_context(admission.admit(POD_B, "carol"))
        assert admission.running == 3
    assert admission.running == 0


def test_the_per_user_limit_counts_a_user_over_pods_and_tenants_apart() -> None:
    admission = ExecAdmission(ExecLimits(per_pod=5, per_user=2, total=10))
    with ExitStack() as running:
        running.enter_context(admission.admit(POD_A, "alice"))
        running.enter_context(admission.admit(POD_B, "alice"))
        message = refused(admission, POD_C, "alice")
        assert "user 'alice'" in message and "PODS_EXEC_MAX_PER_USER" in message
        running.enter_context(admission.admit(PodKey("other", "a"), "alice"))  # other tenant
        running.enter_context(admission.admit(POD_C, "bob"))
        assert admission.running == 4


def test_the_total_limit_and_slots_come_back_after_an_error() -> None:
    admission = ExecAdmission(ExecLimits(per_pod=5, per_user=5, total=1))
    with pytest.raises(RuntimeError), admission.admit(POD_A, "alice"):
        raise RuntimeError("the command failed")
    with admission.admit(POD_A, "alice"):
        assert "PODS_EXEC_MAX_TOTAL" in refused(admission, POD_B, "bob")
    assert admission.running == 0
