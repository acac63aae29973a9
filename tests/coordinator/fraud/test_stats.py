"""The platform's figures are computed from the records and equal the generated market's
ground truth exactly; the market has the article's shape (rates, not typed-in figures)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coordinator.container import Services
from coordinator.identity.auth import Role
from devtools.fraud_data import PlatformShape, generate, load_market
from tests.harness.api import PASSWORD, bearer, login, seeded_secret


@pytest.mark.parametrize("seed", [3, 11])
def test_the_figures_equal_the_generated_markets_ground_truth(
    api: TestClient, services: Services, seed: int
) -> None:
    services.auth.create_user(
        "inv-li", PASSWORD, [Role.FRAUD_INVESTIGATOR], totp_secret=seeded_secret("inv-li")
    )
    m = generate(400, seed=seed)
    truth = m.platform_truth()
    assert truth["frauds_found_early"] > 0 and truth["companies_profiled"] > 0
    load_market(services.fraud, m)
    stats = api.get("/api/fraud/stats", headers=bearer(login(api, "inv-li"))).json()
    assert {k: stats[k] for k in truth} == truth
    assert stats["losses_avoided_yuan"] == truth["losses_avoided_cents"] / 100


def test_the_market_has_the_platforms_shape() -> None:
    """At a few thousand companies the rates come close to the shape's (the article's)."""
    shape = PlatformShape()
    t = generate(4000, seed=2).platform_truth()
    assert t["filings"] / t["companies_checked"] == pytest.approx(
        shape.filings_per_checked, rel=0.1
    )
    ratio = t["companies_profiled"] / t["companies_checked"]
    assert ratio == pytest.approx(shape.profiled_share, rel=0.05)
    early = t["frauds_found_early"] / t["companies_checked"]
    assert early == pytest.approx(shape.early_fraud_share, rel=0.15)
    per_fraud = t["losses_avoided_cents"] / 100 / t["frauds_found_early"]
    assert 0.3 < per_fraud / shape.loss_avoided_mean_cny < 3


def test_a_different_shape_gives_other_figures_and_the_same_companies() -> None:
    a = generate(300, seed=4)
    b = generate(300, seed=4, shape=PlatformShape(profiled_share=0.2, early_fraud_share=0.02))
    assert [c.identifiers for c in a.companies] == [c.identifiers for c in b.companies]
    assert b.platform_truth()["companies_profiled"] < a.platform_truth()["companies_profiled"]
