"""Sharing rules hold for whoever reads an alert, not only for the agency it was for."""

from __future__ import annotations

from fraudx.alerts.model import Rule
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from tests.alerts.helpers import ACCOUNT, run_rules
from tests.conftest import Agencies


def _inbox(node: Node, agencies: Agencies, role: Role) -> dict[str, dict[str, object]]:
    rows = node.alerts.alerts(agencies.principal("TH-CCIB", role), 0, 100)
    return {row.rule: row.body for row in rows}


def _corroborated_and_looked_up(node: Node, agencies: Agencies) -> None:
    """A Thai report that a Cambodian one corroborates, then a Cambodian look-up of it:
    alerts for TH-CCIB that name who reported and who looked."""
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    node.registry.submit(
        agencies.principal("KH-GCNP", Role.ANALYST),
        {"kind": "bank_account", "value": "KASITHBK:1234567890", "category": "mule_account"},
    )
    node.lookups.lookup(
        agencies.principal("KH-GCNP", Role.ANALYST), "bank_account", ACCOUNT["value"]
    )
    run_rules(node)


def test_a_partner_token_of_a_police_agency_is_not_told_who_reported_or_looked(
    node: Node, agencies: Agencies
) -> None:
    _corroborated_and_looked_up(node, agencies)

    analyst = _inbox(node, agencies, Role.ANALYST)
    assert analyst[Rule.CORROBORATION]["agencies"] == ["KH-GCNP", "TH-CCIB"]
    assert analyst[Rule.CORROBORATION]["indicator"]["agency"] == "KH-GCNP"  # type: ignore[index]
    assert analyst[Rule.SIGHTING]["sighting"]["by"]["agency"] == "KH-GCNP"  # type: ignore[index]

    partner = _inbox(node, agencies, Role.PARTNER)
    assert set(partner) == set(analyst)  # the same alerts, told less
    assert "agencies" not in partner[Rule.CORROBORATION]
    assert partner[Rule.CORROBORATION]["countries"] == ["KH", "TH"]
    assert "agency" not in partner[Rule.CORROBORATION]["indicator"]  # type: ignore[operator]
    by = partner[Rule.SIGHTING]["sighting"]["by"]  # type: ignore[index]
    assert by == {"role": "analyst", "country": "KH", "agency_kind": "police"}


def test_the_api_applies_the_reading_tokens_role(node: Node, agencies: Agencies) -> None:
    from fastapi.testclient import TestClient

    from fraudx.app import create_app
    from tests.conftest import bearer

    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    node.lookups.lookup(
        agencies.principal("KH-GCNP", Role.ANALYST), "bank_account", ACCOUNT["value"]
    )
    run_rules(node)
    with TestClient(create_app(node=node)) as client:
        for role, named in [(Role.ANALYST, True), (Role.PARTNER, False)]:
            headers = bearer(agencies.token("TH-CCIB", role))
            [item] = client.get("/api/v1/alerts", headers=headers).json()["items"]
            assert ("agency" in item["alert"]["sighting"]["by"]) is named


def test_pushed_alerts_follow_the_subscribing_tokens_role(node: Node, agencies: Agencies) -> None:
    import asyncio

    from fraudx.alerts.channels import WebhookSender
    from fraudx.alerts.delivery import Dispatcher
    from fraudx.alerts.model import ChannelType
    from tests.alerts.helpers import SECRET, Receiver

    analyst_hook, partner_hook = Receiver(), Receiver()
    try:
        for role, hook in [(Role.ANALYST, analyst_hook), (Role.PARTNER, partner_hook)]:
            channel = {"type": "webhook", "url": hook.url, "secret": SECRET}
            node.alerts.subscribe(agencies.principal("TH-CCIB", role), {}, channel)
        _corroborated_and_looked_up(node, agencies)
        senders = {ChannelType.WEBHOOK: WebhookSender(timeout=5)}
        dispatcher = Dispatcher(node.platform.db, node.platform.clock, node.alerts.sealer, senders)
        asyncio.run(dispatcher.dispatch_once())
        told = {body["rule"]: body for _, body, _ in analyst_hook.received}
        hidden = {body["rule"]: body for _, body, _ in partner_hook.received}
    finally:
        analyst_hook.close()
        partner_hook.close()
    assert set(told) == set(hidden) >= {Rule.CORROBORATION, Rule.SIGHTING}
    assert told[Rule.CORROBORATION]["agencies"] == ["KH-GCNP", "TH-CCIB"]
    assert told[Rule.SIGHTING]["sighting"]["by"]["agency"] == "KH-GCNP"
    assert "agencies" not in hidden[Rule.CORROBORATION]
    assert "agency" not in hidden[Rule.CORROBORATION]["indicator"]
    assert "agency" not in hidden[Rule.SIGHTING]["sighting"]["by"]


def test_subscriptions_older_than_their_role_get_it_from_the_audit_log_or_are_told_less(
    node: Node, agencies: Agencies
) -> None:
    """Migration 0007 gives subscriptions made before 0005 their maker's role from the
    audit log; one with no role at all is pushed what a partner may see."""
    import asyncio

    from alembic import command
    from sqlalchemy import text

    from fraudx.alerts.channels import WebhookSender
    from fraudx.alerts.delivery import Dispatcher
    from fraudx.alerts.model import ChannelType
    from fraudx.platform import schema
    from tests.alerts.helpers import SECRET, Receiver

    db = node.platform.db
    hook = Receiver()
    try:
        channel = {"type": "webhook", "url": hook.url, "secret": SECRET}
        analysts = node.alerts.subscribe(agencies.principal("TH-CCIB", Role.ANALYST), {}, channel)
        with db.write() as session:  # as subscriptions made before 0005 are
            session.execute(text("UPDATE alert_subscriptions SET role = NULL"))
        config = schema._config()
        with db.writer.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        schema.upgrade(db)
        with db.read() as session:
            roles = session.execute(text("SELECT id, role FROM alert_subscriptions")).all()
        assert [(r.id, r.role) for r in roles] == [(analysts.id, "analyst")]

        with db.write() as session:  # and one whose making is nowhere on record
            session.execute(text("UPDATE alert_subscriptions SET role = NULL"))
        _corroborated_and_looked_up(node, agencies)
        senders = {ChannelType.WEBHOOK: WebhookSender(timeout=5)}
        dispatcher = Dispatcher(db, node.platform.clock, node.alerts.sealer, senders)
        asyncio.run(dispatcher.dispatch_once())
        told = {body["rule"]: body for _, body, _ in hook.received}
    finally:
        hook.close()
    assert Rule.SIGHTING in told
    assert "agency" not in told[Rule.SIGHTING]["sighting"]["by"]
    assert "agencies" not in told[Rule.CORROBORATION]
