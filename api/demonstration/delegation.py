"""The delegation of authority log of site RP in the demonstration (ICH E6(R3) 2.3).

The server, the demonstration's one administrator, designates the demonstration investigator
RP's principal investigator; the investigator then delegates data entry, consent and adverse
event assessment to the coordinator, signing with their own key, as a site's investigator does
(``sealtrail delegation``). Each is done only where the store does not show it done, so a
second run adds nothing.
"""

from __future__ import annotations

from datetime import date

from api.demonstration.plans import SITE
from infrastructure.application.commands import DelegateTasks, Signatory
from infrastructure.bootstrap import Store

__all__ = ["DELEGATED", "DELEGATED_FROM", "delegate_at_rp"]

DELEGATED_FROM = date(2011, 1, 24)
"""The day the site's team completed its training: its delegation log starts then."""
DELEGATED = ("data_entry", "consent", "ae_assessment")
"""The coordinator's tasks (the investigator keeps signing, and enters what they sign)."""


def delegate_at_rp(store: Store, investigator: Signatory, coordinator: str) -> int:
    """The designation and the coordinator's delegation, where missing; how many were added."""
    added = 0
    if store.app.account(investigator.user_id).delegation_at(SITE) is None:
        designation = DelegateTasks(
            investigator.user_id, SITE, ("principal_investigator",), DELEGATED_FROM
        )
        store.administration.delegate_tasks(designation)  # signed by the server
        added += 1
    if store.app.account(coordinator).delegation_at(SITE) is None:
        delegation = DelegateTasks(coordinator, SITE, DELEGATED, DELEGATED_FROM)
        store.administration.delegate_tasks(delegation, by=investigator)
        added += 1
    return added
