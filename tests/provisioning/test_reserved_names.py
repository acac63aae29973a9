"""No board can be enrolled under a service account's or a patrol unit's name.

One client-id namespace spans the broker's listeners: a board called ``coordinator`` would
throw the centre off the broker and wipe its persistent session.
"""

from __future__ import annotations

import pytest

from provisioning.api import ApiError, Coordinator
from provisioning.ca import BrokerPlan, ProvisionError, broker_config
from tests.harness.field import FieldEnv


@pytest.mark.parametrize(
    "name",
    ["coordinator", "Coordinator", "centre-2", "OPS", "car_1", "ingest-9", "svc-x", "patrol-7"],
)
def test_tokens_for_reserved_or_taken_names_are_refused(
    field_env: FieldEnv, tech: Coordinator, name: str
) -> None:
    # patrol-7 is a dispatch unit only (not a broker account): units are asked live.
    field_env.services.dispatch.units.upsert(
        {"id": "patrol-7", "call_sign": "Patrol 7", "mode": "car", "status": "available"}
    )
    with pytest.raises(ApiError) as err:
        tech.enrolment_token(name)
    assert err.value.status == 422
    assert "device id refused" in str(err.value)


def test_an_ordinary_name_is_accepted(tech: Coordinator) -> None:
    assert tech.enrolment_token("cam-riverside-1")["device_id"] == "cam-riverside-1"


def test_enrolment_config_lists_the_broker_accounts(field_env: FieldEnv) -> None:
    accounts = set(field_env.enrolment.config.service_accounts)
    assert {"coordinator", "centre-2", "ops", "car-1"} <= accounts


def test_broker_config_refuses_accounts_that_imitate_each_other(tmp_path, field_env) -> None:
    plan = BrokerPlan(
        ca_dir=field_env.ca_dir,
        out_dir=tmp_path / "b",
        hostnames=["127.0.0.1"],
        device_port=1,
        service_port=2,
        bind="127.0.0.1",
        accounts={"ops": "centre", "OPS": "centre"},
    )
    with pytest.raises(ProvisionError, match="differ only in case"):
        broker_config(plan)
