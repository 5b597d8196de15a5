"""Open311 GeoReport v2 against a real server: services, reports routed to their cell, status, errors."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest
from servicekit import HOLDERS, INTAKE, Server, make_store, served

from gridcore import Engine


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str], str]]:
    folder = tmp_path_factory.mktemp("service-open311")
    url = f"sqlite:///{folder / 'yinquan.db'}"
    tokens = make_store(url)
    with served(url) as server:
        yield server, tokens, url


@pytest.fixture
def server(setup: tuple[Server, dict[str, str], str]) -> Server:
    return setup[0]


def post(server: Server, **form: str) -> tuple[int, list[dict[str, object]]]:
    with server.client() as client:
        answer = client.post("/open311/v2/requests.json", data=form)
    return answer.status_code, answer.json()


def test_services_are_the_categories_in_force_with_chinese_names(server: Server) -> None:
    with server.client() as client:
        services = {s["service_code"]: s for s in client.get("/open311/v2/services.json").json()}
        definition = client.get("/open311/v2/services/leaking_pipe.json").json()
        by_name = client.get("/open311/v2/services/水管漏水.json").json()
        xml = ET.fromstring(client.get("/open311/v2/services.xml").content)
        missing = client.get("/open311/v2/services/nothing.json")
    assert services["leaking_pipe"] == {
        "service_code": "leaking_pipe", "service_name": "水管漏水", "description": "水管漏水 (leaking_pipe)",
        "metadata": True, "type": "realtime", "keywords": "leaking_pipe,水管漏水,市政设施", "group": "市政设施",
    }
    assert services["fire_hazard"]["service_name"] == "消防隐患"
    assert definition == by_name
    assert definition["attributes"][0]["code"] == "severity"
    assert [v["key"] for v in definition["attributes"][0]["values"]] == ["1", "2", "3", "4", "5"]
    assert xml.tag == "services" and xml.find("service/service_name").text == "水管漏水"  # type: ignore[union-attr]
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "no service 'nothing'; GET services lists them (未知的事件类别)"}]


def test_a_report_by_address_is_routed_to_the_places_cell_and_shows_its_status(server: Server) -> None:
    status, answer = post(server, service_code="leaking_pipe", address_string="银泉花园1栋",
                          description="三楼水管爆了", **{"attribute[severity]": "2"}, email="resident@example.org")
    assert status == 201
    ident = str(answer[0]["service_request_id"])
    assert answer[0]["report_key"]  # anonymous: the key to rate it later
    with server.client() as client:
        (request,) = client.get(f"/open311/v2/requests/{ident}.json").json()
        xml = ET.fromstring(client.get(f"/open311/v2/requests/{ident}.xml").content)
    assert request["status"] == "open"
    assert request["service_name"] == "水管漏水" and request["service_code"] == "leaking_pipe"
    assert request["description"] == "三楼水管爆了"
    assert request["address"] == "银泉花园1栋" and request["address_id"] == "yq-g1-b1"
    assert request["agency_responsible"] == "第一网格一单元 (单元)"
    assert request["expected_datetime"] == "2025-03-03T13:00:00+08:00"  # 4 working hours to accept
    assert request["requested_datetime"] == "2025-03-03T09:00:00+08:00"
    assert "email" not in str(request) and "resident@example.org" not in str(request)
    assert xml.find("request/service_request_id").text == ident  # type: ignore[union-attr]


def test_a_report_by_latitude_and_longitude_finds_the_deepest_cell(server: Server) -> None:
    with server.client() as client:
        inside_unit = post(server, service_code="sanitation", lat="22.587", long="113.073")
        near_point = post(server, service_code="dispute", lat="22.5752", long="113.0851")
        grid_only = post(server, service_code="assistance", lat="22.580", long="113.080")
        cells = [client.get(f"/open311/v2/requests/{answer[1][0]['service_request_id']}.json").json()[0]
                 for answer in (inside_unit, near_point, grid_only)]
    assert [c["agency_responsible"] for c in cells] == ["第一网格一单元 (单元)", "第一网格二单元 (单元)", "银泉社区第一网格 (网格)"]
    assert cells[0]["lat"] == 22.587 and cells[0]["long"] == 113.073


def test_a_report_outside_every_cell_is_refused_naming_the_nearest(server: Server) -> None:
    status, errors = post(server, service_code="leaking_pipe", lat="22.600", long="113.072")
    assert status == 422
    (error,) = errors
    assert error["code"] == 422
    text = str(error["description"])
    assert "outside every cell of 银泉社区" in text
    assert text.index("第一网格一单元 (yq-g1-u1)") < text.index("第一网格二单元 (yq-g1-u2)")


def test_fire_hazards_are_the_fire_departments(server: Server) -> None:
    status, answer = post(server, service_code="消防隐患", address_id="yq-g1-b3", description="楼道堆放杂物")
    assert status == 201
    with server.client() as client:
        (request,) = client.get(f"/open311/v2/requests/{answer[0]['service_request_id']}.json").json()
    assert request["agency_responsible"] == "消防救援"
    assert request["service_code"] == "fire_hazard"


def test_errors_follow_the_specification(server: Server) -> None:
    assert post(server, description="no code") == (
        400, [{"code": 400, "description": "service_code is required (请填写事件类别 service_code)"}])
    assert post(server, service_code="leaking_pipe")[0] == 400
    assert post(server, service_code="leaking_pipe", lat="north", long="113")[0] == 400
    status, errors = post(server, service_code="leaking_pipe", address_string="银泉花园99栋")
    assert status == 404 and "no place on the roster is called '银泉花园99栋'" in str(errors[0]["description"])
    assert "(花名册中没有名为 '银泉花园99栋' 的地址)" in str(errors[0]["description"])  # a resident's app shows it
    status, errors = post(server, service_code="leaking_pipes", address_id="yq-g1-b1")
    assert status == 404 and "(did you mean leaking_pipe?)" in str(errors[0]["description"])
    assert "(未知的事件类别 'leaking_pipes'（是不是：leaking_pipe？）)" in str(errors[0]["description"])
    status, errors = post(server, service_code="leaking_pipe", address_id="yq-g1-b1", colour="red")
    assert status == 400 and "colour" in str(errors[0]["description"])
    with server.client() as client:
        assert client.get("/open311/v2/services.yaml").status_code == 404
        assert client.get("/open311/v2/requests/nothing.json").status_code == 404
        in_url = client.post("/open311/v2/requests.json", params={"api_key": "gct_x_y"},
                             data={"service_code": "leaking_pipe", "address_id": "yq-g1-b1"})
        assert in_url.status_code == 400 and "never in the URL" in in_url.json()[0]["description"]


def test_a_members_api_key_reports_as_the_member(setup: tuple[Server, dict[str, str], str]) -> None:
    server, tokens, _ = setup
    status, answer = post(server, service_code="work_safety", address_id="yq-g1-b2", api_key=tokens["worker"])
    assert status == 201 and "report_key" not in answer[0]
    with server.client(tokens["worker"]) as client:
        view = client.get(f"/api/v1/incidents/{answer[0]['service_request_id']}").json()
    assert view["reporter"] == HOLDERS["worker"] and view["channel"] == "open311"
    status, _ = post(server, service_code="work_safety", address_id="yq-g1-b2", api_key="gct_0_bad")
    assert status == 401


def test_requests_list_filters_by_status_code_and_dates(server: Server) -> None:
    post(server, service_code="social_order", address_id="yq-g1-b1")
    with server.client() as client:
        listed = client.get("/open311/v2/requests.json", params={"service_code": "social_order"}).json()
        closed = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
        early = client.get("/open311/v2/requests.json",
                           params={"end_date": "2025-03-01T00:00:00+08:00"}).json()
    assert listed and all(r["service_code"] == "social_order" for r in listed)
    assert closed == [] and early == []


def test_each_report_is_stored_once(setup: tuple[Server, dict[str, str], str]) -> None:
    server, _, url = setup
    status, answer = post(server, service_code="leaking_pipe", address_id="yq-g1-b4")
    assert status == 201
    ident = answer[0]["service_request_id"]
    engine = Engine.open(store=url)
    try:
        reports = [e for e in engine.events(kinds=["incident_reported"]) if e.incident == ident]
        assert len(reports) == 1 and reports[0].actor == INTAKE and reports[0].channel == "open311"
    finally:
        engine.close()


def test_every_error_the_open311_routes_write_has_its_chinese() -> None:
    """By source: an ``Open311Error`` written here in English ends with its Chinese, as the JSON API's
    ``detail_zh`` (a reporting app shows the description to a resident)."""
    import ast
    import re

    from conftest import REPO

    from gridcore.errors import has_chinese

    path = REPO / "gridcore_app" / "service" / "open311.py"
    words = re.compile(r"[A-Za-z]{4,}")
    missing = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Open311Error":
            text = "".join(n.value for n in ast.walk(node.args[1])
                           if isinstance(n, ast.Constant) and isinstance(n.value, str))
            if words.search(text) and not has_chinese(text):
                missing.append(f"open311.py:{node.lineno}: {text[:60]!r}")
    assert missing == []
