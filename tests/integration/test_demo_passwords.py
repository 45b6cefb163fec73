"""The demonstration's staff are each issued a one-time password once: recorded as any issued
password is, opening nothing but its own change, and never issued again."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.demonstration.plans import MONITOR
from api.demonstration.staff import STAFF, issue_one_time_passwords
from domain.account import SYSTEM_USER, Account
from infrastructure.application.commands import ResetPassword
from infrastructure.bootstrap import Store
from infrastructure.errors import PasswordExpired
from tests.shared_templates import DemoCohort, opened


def last_event(store: Store, user_id: str) -> Account.Event:
    return store.reads.account_history(user_id)[-1].event


def test_each_of_the_staff_is_issued_a_one_time_password_recorded_and_changed_first(
    tmp_path: Path, demo_cohort_template: DemoCohort
) -> None:
    with opened(demo_cohort_template, tmp_path) as store:
        recorded = store.app.recorder.max_notification_id()

        issued = issue_one_time_passwords(store)

        assert [each.staff for each in issued] == list(STAFF.values())
        assert len({each.password for each in issued}) == len(issued)
        assert store.app.recorder.max_notification_id() == recorded + len(issued)
        for each in issued:
            event = last_event(store, each.staff.user_id)
            assert isinstance(event, Account.PasswordChanged)
            assert (event.changed_by, event.temporary) == (SYSTEM_USER, True)
            with pytest.raises(PasswordExpired):  # it opens only its own change
                store.access.authenticate(each.staff.user_id, each.password, channel="token")
            store.access.change_password(each.staff.user_id, each.password, "my own passphrase 7")
            store.access.authenticate(each.staff.user_id, "my own passphrase 7", channel="token")
        changed = store.app.recorder.max_notification_id()
        assert issue_one_time_passwords(store) == []
        assert store.app.recorder.max_notification_id() == changed


def test_nobody_who_already_has_a_password_is_issued_another(
    tmp_path: Path, demo_cohort_template: DemoCohort
) -> None:
    monitor = STAFF[MONITOR].user_id
    with opened(demo_cohort_template, tmp_path) as store:
        store.administration.reset_password(ResetPassword(monitor), by=None)
        before = store.app.recorder.max_notification_id()

        issued = issue_one_time_passwords(store)

        assert [each.staff.user_id for each in issued] == [
            staff.user_id for staff in STAFF.values() if staff.user_id != monitor
        ]
        assert store.app.recorder.max_notification_id() == before + 3
