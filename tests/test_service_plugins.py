"""Plugins add routes to the service (``gridcore_register_routes``), served for real."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from servicekit import make_store
from starlette.responses import JSONResponse
from starlette.routing import Route

from gridcore import PluginError, get_plugin_manager, hookimpl
from gridcore_app.service import Problem, Settings, create_app, documented, service_of
from gridcore_app.service.testing import running


@documented("How many incidents each category has", tag="counts")
async def category_counts(request):  # type: ignore[no-untyped-def]
    service = service_of(request)
    who = await service.member(request)
    if request.query_params.get("refuse"):
        raise Problem("forbidden", f"{who.member} asked to be refused")

    def count(engine):  # type: ignore[no-untyped-def]
        counts: dict[str, int] = {}
        for event in engine.events(kinds=["incident_reported"]):
            counts[event.category] = counts.get(event.category, 0) + 1
        return {"by": who.member, "counts": counts}

    return JSONResponse(await service.read(count))


class CountsPlugin:
    @hookimpl
    def gridcore_register_routes(self) -> list[Route]:
        return [Route("/counts/categories", category_counts)]


class ClashingPlugin:
    @hookimpl
    def gridcore_register_routes(self) -> list[Route]:
        return [Route("/api/v1/incidents", category_counts, methods=["GET"])]


def test_a_plugin_route_is_served_with_the_engine_kept_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    tokens = make_store(url)
    app = create_app(Settings(store=url), plugins=get_plugin_manager(extra=[CountsPlugin()]))
    with running(app) as base:
        auth = {"Authorization": f"Bearer {tokens['worker']}"}
        reported = httpx.post(f"{base}/api/v1/incidents", headers=auth,
                              json={"category": "leaking_pipe", "place": "yq-g1-b1"})
        assert reported.status_code == 201
        answer = httpx.get(f"{base}/counts/categories", headers=auth).json()
        assert answer == {"by": "yq-fw1", "counts": {"leaking_pipe": 1}}
        refused = httpx.get(f"{base}/counts/categories", headers=auth, params={"refuse": "1"})
        assert refused.status_code == 403 and refused.json()["detail"] == "yq-fw1 asked to be refused"
        assert httpx.get(f"{base}/counts/categories").status_code == 401
        described = httpx.get(f"{base}/api/v1/openapi.json").json()["paths"]["/counts/categories"]
        assert described["get"]["summary"] == "How many incidents each category has"


def test_a_plugin_route_may_not_take_a_route_of_the_service(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="GET /api/v1/incidents clashes"):
        create_app(Settings(store=str(tmp_path)), plugins=get_plugin_manager(extra=[ClashingPlugin()]))


class Faulty:
    """A plugin with a bug: it fails on every report whose description says "boom"."""

    @hookimpl
    def gridcore_on_event(self, event):  # type: ignore[no-untyped-def]
        if getattr(event, "description", "") == "boom":
            raise RuntimeError("the faulty plugin's bug")


class FaultyPlugin:
    @hookimpl
    def gridcore_on_open(self, engine):  # type: ignore[no-untyped-def]
        engine.attach("faulty", Faulty())


def test_a_plugin_failing_in_a_hook_is_a_logged_server_error_and_nothing_is_stored(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The client's request was fine: a plugin's bug answers 500 (server-error, naming the plugin, in
    English and Chinese), not 400; the traceback goes to the log, nothing of the event is stored, and the
    service answers the next request from a state rebuilt from the store."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    tokens = make_store(url)
    app = create_app(Settings(store=url, intake="yq-m-sec"), plugins=get_plugin_manager(extra=[FaultyPlugin()]))
    # One client, its connection kept alive: after a 500 the next request goes on the same connection (it was
    # dropped once, the next request failing with a reset). It waits up to 60 s, not httpx's 5: under a loaded
    # machine's clean-clone run (load 15) the first request, whose failure makes the service rebuild its state from
    # the store, outlasted 5 s.
    with running(app) as base, httpx.Client(timeout=60) as client:
        auth = {"Authorization": f"Bearer {tokens['worker']}"}
        failed = client.post(f"{base}/api/v1/incidents", headers=auth,
                             json={"category": "leaking_pipe", "place": "yq-g1-b1", "description": "boom"})
        assert failed.status_code == 500
        problem = failed.json()
        assert problem["type"] == "/problems/server-error" and problem["title_zh"] == "内部错误"
        assert problem["detail"] == "the plugin 'FaultyPlugin' failed inside the service; it was logged"
        assert problem["detail_zh"] == "插件 'FaultyPlugin' 在服务内出错，已记录日志"
        assert "the faulty plugin's bug" not in failed.text  # what it said stays in the log
        open311 = client.post(f"{base}/open311/v2/requests.json",
                              data={"service_code": "leaking_pipe", "address_id": "yq-g1-b1", "description": "boom"})
        assert open311.status_code == 500
        assert "the plugin 'FaultyPlugin' failed inside the service" in open311.json()[0]["description"]
        fine = client.post(f"{base}/api/v1/incidents", headers=auth,
                           json={"category": "leaking_pipe", "place": "yq-g1-b1", "description": "a leak"})
        assert fine.status_code == 201
        listed = client.get(f"{base}/api/v1/incidents", headers=auth, params={"status": "all"}).json()
        assert [case["description"] for case in listed] == ["a leak"]
    logged = [r for r in caplog.records if r.name == "gridcore.service" and r.exc_info]
    assert len(logged) == 2 and "the faulty plugin's bug" in str(logged[0].exc_info[1])
