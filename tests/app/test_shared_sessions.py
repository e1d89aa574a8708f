"""A room on one server: sessions share computed results (once per dataset and parameters), never
each other's uploads."""

import io

import pandas as pd
import pytest

from streamlit.testing.v1 import AppTest

import kpilab
from kpilab.app import state

from tests.app.conftest import ROOT, assert_clean, open_page


@pytest.fixture
def counted(monkeypatch):
    """Empty the result caches, then count the library's compare() and Comparison.wide() calls."""
    state._compare.clear()
    state._derive.clear()
    calls = {"compare": 0, "wide": 0}
    compare, wide = kpilab.compare, kpilab.Comparison.wide

    def counting_compare(*args, **kwargs):
        calls["compare"] += 1
        return compare(*args, **kwargs)

    def counting_wide(self):
        calls["wide"] += 1
        return wide(self)

    monkeypatch.setattr(kpilab, "compare", counting_compare)
    monkeypatch.setattr(kpilab.Comparison, "wide", counting_wide)
    yield calls
    state._compare.clear()
    state._derive.clear()


def test_two_sessions_on_the_sample_share_one_computation(counted):
    first = open_page("views/planning.py")
    assert_clean(first)
    # plan accuracy, bias and forecast value added overall and by month, order-volume accuracy
    # overall and by warehouse: 8 distinct requests, each computed once
    assert counted["compare"] == 8
    built = counted["wide"]
    assert built >= 4                           # monthly accuracy, bias, FVA, by warehouse

    second = open_page("views/planning.py")
    assert_clean(second)
    assert counted["compare"] == 8              # nothing computed again for the second session
    assert counted["wide"] == built             # nor the wide tables built again
    assert [m.value for m in second.metric] == [m.value for m in first.metric]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def test_an_upload_stays_private_to_its_session():
    skus = pd.DataFrame({"sku": ["a", "b"], "category": ["x", "y"], "unit_cost": [1.0, 2.0]})
    sales = pd.DataFrame({"date": ["2024-01-10", "2024-01-31"], "sku": ["a", "b"], "warehouse": "W1",
                          "units": [5, 3], "gmv": [50, 30]})
    owner = open_page("views/data.py")
    owner.get("file_uploader")[0].set_value([("skus.csv", csv_bytes(skus), "text/csv"),
                                            ("sales.csv", csv_bytes(sales), "text/csv")]).run()
    owner.button(key="data_use").click().run()
    fingerprint = owner.session_state["data"]
    assert fingerprint != state.SAMPLE
    assert "skus.csv +1" in owner.selectbox(key="data").options      # the owner's sidebar lists it

    other = open_page("views/data.py")          # another person on the same server
    assert "skus.csv +1" not in other.selectbox(key="data").options
    assert other.session_state["data"] == state.SAMPLE

    follower = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)   # a link naming the upload
    follower.query_params["data"] = fingerprint
    follower.run()
    assert follower.session_state["data"] == state.SAMPLE
    assert any("not available in this session" in w.value for w in follower.warning)
    assert "skus.csv +1" not in follower.selectbox(key="data").options
    assert not follower.exception
