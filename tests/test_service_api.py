"""``gridcore serve``'s JSON API against a real server: actions as the token's member, reads, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servicekit import HOLDERS, INTAKE, START, YINQUAN, Server, make_store, served

from gridcore import Engine
from gridcore_app.cli import read_ruleset
from gridcore_escalation.limits import limits_table
from gridcore_escalation.section import SECTION


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str], str]]:
    folder = tmp_path_factory.mktemp("service-api")
    url = f"sqlite:///{folder / 'yinquan.db'}"
    tokens = make_store(url)
    with served(url) as server:
        yield server, tokens, url


@pytest.fixture
def server(setup: tuple[Server, dict[str, str], str]) -> Server:
    return setup[0]


@pytest.fixture
def tokens(setup: tuple[Server, dict[str, str], str]) -> dict[str, str]:
    return setup[1]


def report(server: Server, token: str | None, **body: object) -> dict[str, object]:
    with server.client(token) as client:
        answer = client.post("/api/v1/incidents", json={"category": "leaking_pipe", "place": "yq-g1-b1", **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_reads_need_a_token_and_a_wrong_token_is_refused(server: Server) -> None:
    with server.client() as anonymous:
        answer = anonymous.get("/api/v1/incidents")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "/problems/unauthorized"
    with server.client("gct_abcdef012345_not-the-secret") as forged:
        refused = forged.get("/api/v1/me")
    assert refused.status_code == 401
    # the title fits a wrong token too (it said "A token is needed" to a client that had sent one)
    assert (refused.json()["title"], refused.json()["title_zh"]) == ("A valid token is needed", "需要有效的令牌")
    assert "令牌无效、已撤销或不正确" in refused.json()["detail_zh"]


def test_me_names_the_tokens_member(server: Server, tokens: dict[str, str]) -> None:
    with server.client(tokens["leader"]) as client:
        me = client.get("/api/v1/me").json()
    assert me["member"] == HOLDERS["leader"]
    assert me["staff"] is True
    assert {"role": "grid_leader", "name": "网格长", "node": "yq-g1"} in me["roles"]


def test_the_whole_loop_as_the_tokens_members(server: Server, tokens: dict[str, str]) -> None:
    made = report(server, tokens["resident"], description="楼道漏水", severity=2)
    ident = made["incident"]
    assert made["node"] == "yq-g1-u1" and made["place"] == "yq-g1-b1"
    assert "report_key" not in made  # a member's report needs no key
    with server.client(tokens["worker"]) as worker, server.client(tokens["leader"]) as leader:
        assert worker.post(f"/api/v1/incidents/{ident}/accept").status_code == 201
        assert worker.post(f"/api/v1/incidents/{ident}/handle", json={"note": "关阀门"}).status_code == 201
        resolved = worker.post(f"/api/v1/incidents/{ident}/resolve", json={"note": "换了水管"})
        assert resolved.json()["incident"]["status"] == "resolved"
        verified = leader.post(f"/api/v1/incidents/{ident}/verify", json={"satisfaction": 5})
        assert verified.status_code == 201, verified.text
        closed = leader.post(f"/api/v1/incidents/{ident}/close").json()
        assert closed["incident"]["status"] == "closed"
        timeline = worker.get(f"/api/v1/incidents/{ident}/timeline").json()["entries"]
    steps = [e["what"] for e in timeline]
    assert steps[0] == "reported" and "accepted" in steps and steps[-1] == "closed"
    actors = {e["what"]: e["actor"] for e in timeline}
    assert actors["accepted"] == HOLDERS["worker"] and actors["verified"] == HOLDERS["leader"]
    routed = next(e for e in timeline if e["what"] == "routed")
    assert routed["explanation"]["rules"][0]["rule"] == "yinquan.rules:36"


def test_rule_references_name_the_ruleset_file_never_a_server_path(server: Server, tokens: dict[str, str]) -> None:
    # the store's ruleset was loaded by its absolute path (servicekit.make_store): answers name
    # the file as the ruleset chain does, its parents included, and never the server's folders
    assert YINQUAN.is_absolute()
    ident = report(server, tokens["worker"], category="food_safety")["incident"]
    with server.client(tokens["leader"]) as leader:
        explained = leader.get(f"/api/v1/explain/escalation:route:{ident}")
        timeline = leader.get(f"/api/v1/incidents/{ident}/timeline")
        rated = leader.get("/api/v1/assessments/2025-Q1")
    rules = explained.json()["rules"]
    assert rules and all(r["file"] in {"yinquan.rules", "district-base.rules"} for r in rules)
    assert all(r["rule"] == f"{r['file']}:{r['line']}" for r in rules)
    terms = [t["rule"] for r in rated.json()["assessment"]["ratings"] for t in r["terms"]]
    assert terms and all(t["rule"].startswith(("yinquan.rules:", "district-base.rules:")) for t in terms)
    for answer in (explained, timeline, rated):
        assert str(YINQUAN.parent) not in answer.text and "/rulesets/" not in answer.text


def test_a_refused_step_is_a_problem_with_the_engines_reasons_and_changes_nothing(
    server: Server, tokens: dict[str, str]
) -> None:
    ident = report(server, tokens["worker"], category="sanitation")["incident"]
    with server.client(tokens["other_worker"]) as outsider, server.client(tokens["worker"]) as worker:
        refused = outsider.post(f"/api/v1/incidents/{ident}/accept")
        assert refused.status_code == 422
        problem = refused.json()
        assert problem["type"] == "/problems/event-refused"
        who = HOLDERS["other_worker"]
        english = f"{who} may not accept incident {ident}: it is at yq-g1-u1 and {who} holds no role there or above"
        assert problem["reasons"] == [f"{english} (事件不在其辖区，无权受理)"]
        # detail_zh says each reason Chinese first (the reasons stay as the engine gave them)
        assert problem["detail_zh"].endswith(f"被拒绝：事件不在其辖区，无权受理（{english}）"), problem["detail_zh"]
        assert worker.get(f"/api/v1/incidents/{ident}").json()["status"] == "reported"
        early = worker.post(f"/api/v1/incidents/{ident}/resolve")
        assert early.status_code == 422
        assert "must be accepted before it can be resolved" in early.json()["reasons"][0]
        wrong = worker.post(f"/api/v1/incidents/{ident}/verify", json={"satisfaction": 9})
        assert wrong.status_code == 400 and wrong.json()["type"] == "/problems/invalid-event"
        unknown = worker.post(f"/api/v1/incidents/{ident}/accept", json={"colour": "red"})
        assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
        missing = worker.post("/api/v1/incidents/no-such-case/accept")
        assert missing.status_code == 404


def test_a_case_is_paused_and_resumed_and_a_pause_needs_its_reason(server: Server, tokens: dict[str, str]) -> None:
    ident = report(server, tokens["worker"], category="assistance", place="yq-g1-b3")["incident"]
    with server.client(tokens["worker"]) as worker:
        assert worker.post(f"/api/v1/incidents/{ident}/accept").status_code == 201
        bare = worker.post(f"/api/v1/incidents/{ident}/pause")
        assert bare.status_code == 400 and "reason" in bare.json()["detail"]
        assert worker.get(f"/api/v1/incidents/{ident}").json()["paused"] is False
        paused = worker.post(f"/api/v1/incidents/{ident}/pause", json={"reason": "等居民回家"})
        assert paused.status_code == 201, paused.text
        assert paused.json()["incident"]["paused"] is True
        resumed = worker.post(f"/api/v1/incidents/{ident}/resume")
        assert resumed.status_code == 201 and resumed.json()["incident"]["paused"] is False
        steps = [e["what"] for e in worker.get(f"/api/v1/incidents/{ident}/timeline").json()["entries"]]
    assert steps[-2:] == ["paused", "resumed"], steps


def test_a_leader_assigns_a_case_and_the_handler_consults_through_the_api(
    server: Server, tokens: dict[str, str]
) -> None:
    ident = report(server, tokens["resident"], category="assistance", place="yq-g1-b2")["incident"]
    with server.client(tokens["leader"]) as leader, server.client(tokens["worker"]) as worker:
        assigned = leader.post(f"/api/v1/incidents/{ident}/assign",
                               json={"handler": HOLDERS["worker"], "reason": "就近处置"})
        assert assigned.status_code == 201, assigned.text
        assert assigned.json()["incident"]["assignee"] == HOLDERS["worker"]
        taken = leader.post(f"/api/v1/incidents/{ident}/accept")
        assert taken.status_code == 422 and f"assigned to {HOLDERS['worker']}" in taken.json()["reasons"][0]
        assert worker.post(f"/api/v1/incidents/{ident}/accept").status_code == 201
        met = worker.post(f"/api/v1/incidents/{ident}/consult",
                          json={"participants": [HOLDERS["worker"], HOLDERS["leader"]], "decision": "上门帮扶"})
        assert met.status_code == 201, met.text
        timeline = worker.get(f"/api/v1/incidents/{ident}/timeline").json()["entries"]
    assigned_line = next(e for e in timeline if e["what"] == "assigned")
    assert assigned_line["actor"] == HOLDERS["leader"] and assigned_line["detail"].startswith(f"to {HOLDERS['worker']}")
    assert [e["what"] for e in timeline][-2:] == ["accepted", "consulted"]


def test_returns_extensions_and_feedback_through_the_api(server: Server, tokens: dict[str, str]) -> None:
    ident = report(server, tokens["resident"], category="social_order", place="yq-g1-b1")["incident"]
    with server.client(tokens["worker"]) as worker, server.client(tokens["leader"]) as leader:
        # 退单: the wrong cell, routed again there
        back = worker.post(f"/api/v1/incidents/{ident}/return", json={"to_node": "yq-g1-u2", "reason": "地址在二单元"})
        assert back.status_code == 201, back.text
        assert back.json()["incident"]["node"] == "yq-g1-u2" and back.json()["incident"]["status"] == "reported"
        assert worker.post(f"/api/v1/incidents/{ident}/accept").status_code == 201
        # 延期: 银泉's rules have no extension item, and the refusal says so
        more = worker.post(f"/api/v1/incidents/{ident}/extend", json={"days": 1, "reason": "等待配件"})
        assert more.status_code == 422 and "allow no extension" in more.json()["reasons"][0]
        assert worker.post(f"/api/v1/incidents/{ident}/resolve").status_code == 201
        told = worker.post(f"/api/v1/incidents/{ident}/feedback", json={"note": "已清理", "channel": "phone"})
        assert told.status_code == 201, told.text
        assert leader.post(f"/api/v1/incidents/{ident}/verify", json={"satisfaction": 5}).status_code == 201
        steps = [e["what"] for e in worker.get(f"/api/v1/incidents/{ident}/timeline").json()["entries"]]
    assert [s for s in steps if s in ("returned", "accepted", "resolved", "feedback given", "verified")] == [
        "returned", "accepted", "resolved", "feedback given", "verified"]


def test_a_repeat_report_says_which_open_incident_it_joined(server: Server, tokens: dict[str, str]) -> None:
    first = report(server, tokens["worker"], category="fire_hazard", place="yq-g1-b4")
    second = report(server, tokens["resident"], category="消防隐患", place="yq-g1-b4")
    assert second["joined"] == first["incident"]
    assert second["status"]["repeat_reports"] == [second["incident"]]


def test_anonymous_residents_report_and_rate_only_what_they_reported(server: Server, tokens: dict[str, str]) -> None:
    mine = report(server, None, description="井盖坏了", category="井盖破损", place="yq-g1-b2")
    assert mine["status"]["reporter"] == INTAKE  # recorded as the duty desk
    assert mine["status"]["category"] == "broken_manhole"  # the Chinese name found the code
    key = mine["report_key"]
    other = report(server, None, category="dispute")
    ident = mine["incident"]
    with server.client(tokens["worker"]) as worker:
        for step in ("accept", "resolve"):
            assert worker.post(f"/api/v1/incidents/{ident}/{step}").status_code == 201
    with server.client() as anonymous:
        assert anonymous.post(f"/api/v1/incidents/{ident}/accept").status_code == 401
        wrong = anonymous.post(f"/api/v1/incidents/{ident}/rate", json={"score": 4, "report_key": "guess"})
        assert wrong.status_code == 403
        theirs = anonymous.post(f"/api/v1/incidents/{other['incident']}/rate", json={"score": 1, "report_key": key})
        assert theirs.status_code == 403
        rated = anonymous.post(f"/api/v1/incidents/{ident}/rate", json={"score": 4, "report_key": key})
        assert rated.status_code == 201, rated.text
        assert rated.json()["incident"]["ratings"] == {INTAKE: 4}
        again = anonymous.post(f"/api/v1/incidents/{ident}/rate", json={"score": 5, "report_key": key})
        assert again.status_code == 422 and "already rated" in again.json()["reasons"][0]
        assert anonymous.get("/api/v1/incidents").status_code == 401


def test_record_events_only_as_the_tokens_member(server: Server, tokens: dict[str, str]) -> None:
    activity = {"kind": "activity_recorded", "node": "yq-g1", "activity": "志愿服务", "hours": 2}
    with server.client(tokens["worker"]) as worker:
        recorded = worker.post("/api/v1/events", json={**activity, "id": "api-test-activity-1"})
        assert recorded.status_code == 201 and recorded.json()["stored"] is True
        again = worker.post("/api/v1/events", json={**activity, "id": "api-test-activity-1"})
        assert again.status_code == 200 and again.json()["stored"] is False
        changed = worker.post("/api/v1/events", json={**activity, "hours": 3, "id": "api-test-activity-1"})
        assert changed.status_code == 422 and "hours" in changed.json()["reasons"][0], changed.text
        forged = worker.post("/api/v1/events", json={**activity, "actor": HOLDERS["leader"]})
        assert forged.status_code == 403
        batch = worker.post("/api/v1/events", json={"events": [
            {**activity, "id": "api-test-activity-2", "activity": "环境整治"},
            {**activity, "id": "api-test-activity-3", "activity": "政策宣传", "node": "nowhere"},
        ]}).json()
        assert batch["stored"] == 1
        assert batch["refused"] == [{"event": "api-test-activity-3", "reasons": ["unknown node 'nowhere' (未知节点)"]}]
        statement = worker.get(f"/api/v1/points/members/{HOLDERS['worker']}/statement",
                               params={"period": "2025-03"}).json()
    assert any(e["cause"] == "api-test-activity-1" and e["amount"] > 0 for e in statement["entries"])


def test_points_reads_and_who_may_see_them(server: Server, tokens: dict[str, str]) -> None:
    member = HOLDERS["resident"]
    with server.client(tokens["resident"]) as resident, server.client(tokens["leader"]) as leader:
        before = resident.get(f"/api/v1/points/members/{member}/balance").json()["balance"]
        assert before < 100  # a confirmed report at most: not enough for 洗衣液
        other = resident.get(f"/api/v1/points/members/{HOLDERS['worker']}/balance")
        assert other.status_code == 403
        assert leader.get(f"/api/v1/points/members/{member}/balance").status_code == 200
        board = leader.get("/api/v1/points/board", params={"node": "yq-g1", "month": "2025-03"}).json()
        assert board["node"] == "yq-g1" and board["month"] == "2025-03"
        rewards = {r["name"]: r for r in leader.get("/api/v1/points/rewards").json()}
        assert rewards["洗衣液"]["price"] == 100
        refused = resident.post("/api/v1/points/redemptions", json={"reward": "洗衣液"})
        assert refused.status_code == 422
        assert any("points" in reason for reason in refused.json()["reasons"])
        assert resident.get(f"/api/v1/points/members/{member}/balance").json()["balance"] == before


def test_a_redemption_spends_the_points_and_answers_the_balance_after_it(
    server: Server, tokens: dict[str, str]
) -> None:
    member = HOLDERS["worker"]
    with server.client(tokens["worker"]) as worker, server.client(tokens["leader"]) as leader:
        for day in ("02-28", "03-01", "03-02"):  # mediations before: 12 points each, x 2 for a full-time gridworker
            earned = worker.post("/api/v1/events", json={
                "kind": "activity_recorded", "id": f"api-redeem-mediation-{day}", "node": "yq-g1",
                "activity": "矛盾调解", "time": f"2025-{day}T10:00:00+08:00"})
            assert earned.status_code == 201, earned.text
        before = worker.get(f"/api/v1/points/members/{member}/balance").json()["balance"]
        assert before >= 50
        redeemed = worker.post("/api/v1/points/redemptions", json={"reward": "理发券"})
        assert redeemed.status_code == 201, redeemed.text
        answer = redeemed.json()
        assert answer["entry"]["amount"] == -50 and answer["entry"]["inputs"]["balance_before"] == before
        assert answer["balance"] == before - 50
        assert worker.get(f"/api/v1/points/members/{member}/balance").json()["balance"] == before - 50
        again = worker.post("/api/v1/points/redemptions", json={"reward": "理发券", "event_id": answer["event"]})
        assert again.status_code == 200 and again.json()["stored"] is False, again.text  # a retry spends nothing
        assert leader.get(f"/api/v1/points/members/{member}/balance").json()["balance"] == before - 50
        statement = leader.get(f"/api/v1/points/members/{member}/statement", params={"period": "2025-03"}).json()
        # a period as staff write it in Chinese is the same period (gridcore.periods.period_label, as the CLI's)
        assert leader.get(f"/api/v1/points/members/{member}/statement",
                          params={"period": "2025年3月"}).json() == statement
        bad = leader.get(f"/api/v1/points/members/{member}/statement", params={"period": "2025年13月"})
        assert bad.status_code == 400 and "'2025年13月' is not a real month" in bad.text, bad.text
    assert [e["amount"] for e in statement["entries"] if e["kind"] == "redeem"] == [-50]


def test_a_retry_with_the_same_event_id_changes_nothing(server: Server, tokens: dict[str, str]) -> None:
    with server.client(tokens["worker"]) as worker:
        body = {"category": "leaking_pipe", "place": "yq-g1-b1", "event_id": "api-retry-report"}
        first = worker.post("/api/v1/incidents", json=body)
        again = worker.post("/api/v1/incidents", json=body)
        assert (first.status_code, again.status_code) == (201, 200), again.text
        assert again.json()["incident"] == first.json()["incident"]
        ident = first.json()["incident"]
        accepted = worker.post(f"/api/v1/incidents/{ident}/accept", json={"event_id": "api-retry-accept"})
        repeated = worker.post(f"/api/v1/incidents/{ident}/accept", json={"event_id": "api-retry-accept"})
        assert (accepted.status_code, repeated.status_code) == (201, 200), repeated.text
        assert repeated.json()["stored"] is False


def test_a_members_statement_is_not_read_through_the_reports_either(server: Server, tokens: dict[str, str]) -> None:
    params = {"member": HOLDERS["worker"], "period": "2025-03"}
    with server.client(tokens["resident"]) as resident, server.client(tokens["leader"]) as leader, \
            server.client(tokens["worker"]) as worker:
        refused = resident.get("/api/v1/reports/points.statement", params=params)
        assert refused.status_code == 403 and refused.json()["type"] == "/problems/forbidden"
        assert worker.get("/api/v1/reports/points.statement", params=params).status_code == 200
        assert leader.get("/api/v1/reports/points.statement", params=params).status_code == 200
        own = resident.get("/api/v1/reports/points.statement",
                           params={"member": HOLDERS["resident"], "period": "2025-03"})
        assert own.status_code == 200, own.text


def test_tasks_households_and_deductions_through_the_api(server: Server, tokens: dict[str, str]) -> None:
    """Issue 16's records are events like any other: the same permissions, read back through the API."""
    worker_id = HOLDERS["worker"]
    with server.client(tokens["leader"]) as leader, server.client(tokens["worker"]) as worker, \
            server.client(tokens["resident"]) as resident:
        assigned = leader.post("/api/v1/events", json={
            "kind": "task_assigned", "id": "api-sweep", "node": "yq-g1", "task": "api-sweep", "task_kind": "入户排查"})
        assert assigned.status_code == 201, assigned.text
        sneaky = resident.post("/api/v1/events", json={
            "kind": "task_completed", "id": "api-sweep-r", "node": "yq-g1", "task": "api-sweep"})
        assert sneaky.status_code == 422 and sneaky.json()["reasons"], sneaky.text
        done = worker.post("/api/v1/events", json={
            "kind": "task_completed", "id": "api-sweep-done", "node": "yq-g1", "task": "api-sweep", "found": 2})
        assert done.status_code == 201, done.text
        task = leader.get("/api/v1/reports/tasks.task", params={"task": "api-sweep"}).json()
        rows = task["rows"]
        assert {r["member"] for r in rows if r["status"].startswith("done")} == {worker_id}
        assert any(r["status"].startswith("open") for r in rows)  # the other gridworkers of 第一网格 have not done theirs

        docked = leader.post("/api/v1/events", json={
            "kind": "activity_recorded", "id": "api-absent", "node": "yq-g1", "activity": "巡查缺勤",
            "member": worker_id})
        assert docked.status_code == 201, docked.text
        statement = leader.get(f"/api/v1/points/members/{worker_id}/statement", params={"period": "2025-03"}).json()
        [deducted] = [e for e in statement["entries"] if e["cause"] == "api-absent"]
        assert deducted["kind"] == "deduct" and deducted["amount"] <= 0 and deducted["rule"]["rule"]

        def households(node: str) -> dict[str, int]:
            nodes = {n["id"]: n for n in leader.get("/api/v1/community").json()["nodes"]}
            return dict(nodes[node]["counts"])

        # the rulesets put in force, each with the subtree it governs (None: the whole tree)
        assert [(r["ruleset"], r["node"]) for r in leader.get("/api/v1/community").json()["rulesets"]] == [
            ("银泉社区", None)]

        before = households("yq-g1")
        moved = worker.post("/api/v1/events", json={
            "kind": "household_moved_in", "id": "api-move-in", "node": "yq-g1-u1", "household": "api-h1",
            "name": "王家", "place": "yq-g1-b1", "size": 3})
        assert moved.status_code == 201, moved.text
        after = households("yq-g1")
        assert (after["households"], after["population"]) == (before["households"] + 1, before["population"] + 3)
        assert households("yq")["households"] == households("yq-g2")["households"] + sum(
            households(f"yq-g{n}")["households"] for n in (1, 3, 4, 5, 6, 7, 8))
        elsewhere = resident.post("/api/v1/events", json={
            "kind": "household_moved_out", "id": "api-move-out", "node": "yq-g1-u1", "household": "api-h1"})
        assert elsewhere.status_code == 422, elsewhere.text  # moving another household out is not a resident's
        assert households("yq-g1") == after
        record = leader.get("/api/v1/households/api-h1").json()
        assert record["record"]["people"] == 3 and record["record"]["node"] == "yq-g1-u1"
        assert [c["event"] for c in record["history"]] == ["api-move-in"]
        assert resident.get("/api/v1/households/api-h1").status_code == 403  # it names people: staff only
        assert leader.get("/api/v1/households/nowhere").status_code == 404
        with server.client(tokens["other_worker"]) as other:  # staff of another grid: not theirs to read
            refused = other.get("/api/v1/households/api-h1")
            assert refused.status_code == 403 and "所在网格或上级的工作人员" in refused.json()["detail_zh"]


def test_assessment_explain_reports_and_openapi(server: Server, tokens: dict[str, str]) -> None:
    with server.client(tokens["leader"]) as leader, server.client(tokens["resident"]) as resident:
        fresh = leader.get("/api/v1/assessments/2025-Q1").json()
        assert fresh["stored"] is False
        ratings = fresh["assessment"]["ratings"]
        assert {r["node"] for r in ratings} >= {"yq-g1", "yq-g2"}
        assert all(t["rule"]["rule"] for r in ratings for t in r["terms"])
        assert resident.post("/api/v1/assessments", json={"period": "2025-Q1"}).status_code == 403
        assert leader.post("/api/v1/assessments", json={"period": "2025-Q1"}).status_code == 201
        assert leader.get("/api/v1/assessments/2025-Q1").json()["stored"] is True
        decision = f"escalation:route:{report(server, tokens['worker'], category='assistance')['incident']}"
        explained = leader.get(f"/api/v1/explain/{decision}").json()
        assert explained["decision"] == decision and explained["rules"]
        assert leader.get("/api/v1/explain/nothing:here").status_code == 404
        names = {r["name"] for r in leader.get("/api/v1/reports").json()}
        assert "escalation.open" in names
        table = leader.get("/api/v1/reports/escalation.open").json()
        assert table["columns"] and isinstance(table["rows"], list)
    with server.client() as anonymous:
        described = anonymous.get("/api/v1/openapi.json").json()
    assert described["openapi"].startswith("3.1")
    assert {"/api/v1/incidents/{incident}/{step}", "/api/v1/points/redemptions", "/open311/v2/requests.{format}"} \
        <= set(described["paths"])
    verified = described["components"]["schemas"]["event.incident_verified"]
    assert verified["properties"]["satisfaction"] == {"title": "satisfaction", "x-title-zh": "满意度", "type": "integer"}
    assert (verified["x-title-zh"], verified["x-description-zh"]) == ("核查", "核查人核查办理结果，并记下居民的满意度（1-5）。")


def test_another_assessment_cycle_is_rated_and_read_by_its_key(server: Server, tokens: dict[str, str]) -> None:
    # Yinquan rates its grids every month too (考核周期 月度评星): the period names the cycle
    with server.client(tokens["leader"]) as leader:
        assert leader.post("/api/v1/assessments", json={"period": "2025-03@月度评星"}).status_code == 201
        read = leader.get("/api/v1/assessments/2025-03@月度评星").json()
        assert read["stored"] is True and read["assessment"]["cycle"] == "月度评星"
        assert {t["metric"] for r in read["assessment"]["ratings"] for t in r["terms"]} == {"巡查覆盖率", "任务完成率"}
        unknown = leader.get("/api/v1/assessments/2025-03@weekly")
        assert unknown.status_code >= 400 and "weekly" in unknown.text


def test_tick_moves_the_test_clock_and_records_escalations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tick.db'}"
    tokens = make_store(url)
    with served(url) as server, server.client(tokens["worker"]) as worker:
        ident = report(server, tokens["worker"])["incident"]
        # yinquan: a unit has 4 working hours to accept; Monday 09:00 + 4h = 13:00
        ticked = worker.post("/api/v1/tick", json={"now": "2025-03-03T14:00:00+08:00"}).json()
        kinds = [d["kind"] for d in ticked["derived"]]
        assert "incident_escalated" in kinds
        assert worker.get(f"/api/v1/incidents/{ident}").json()["current_level"] == "grid"
        back = worker.post("/api/v1/tick", json={"now": START.isoformat()})
        assert back.status_code == 400
        # no time to tick to: a refusal saying so in both languages (it was a 500 with an AssertionError)
        nowhen = worker.post("/api/v1/tick", json={})
        assert nowhen.status_code == 400 and nowhen.json()["type"] == "/problems/invalid-request", nowhen.text
        assert nowhen.json()["detail_zh"].startswith("请填写 now"), nowhen.text
        # a grave case goes to the community at once; nobody accepts it within its working day
        grave = report(server, tokens["worker"], category="dispute", severity=4)["incident"]
        assert worker.get("/api/v1/incidents/overdue").json() == []
        worker.post("/api/v1/tick", json={"now": "2025-03-05T09:00:00+08:00"})
        late = {o["incident"]["id"]: o["deadline"] for o in worker.get("/api/v1/incidents/overdue").json()}
        assert grave in late and late[grave]["limit"] == "accept"
    engine = Engine.open(store=url)
    try:
        escalations = [e for e in engine.events(kinds=["incident_escalated"]) if e.incident == ident]
        # once to the grid at 13:00 and once, when the grid's 4 hours ran out too, to the community
        assert [(e.to_node, e.time.hour) for e in escalations] == [("yq-g1", 13), ("yq", 17)]
    finally:
        engine.close()


def test_which_time_limit_applies_where_is_the_same_read_as_the_command_line(
    server: Server, tokens: dict[str, str]
) -> None:
    with server.client(tokens["worker"]) as worker:
        answer = worker.get("/api/v1/incidents/limits").json()
        on_day = worker.get("/api/v1/incidents/limits", params={"on": "2025-03-01"}).json()
        bad = worker.get("/api/v1/incidents/limits", params={"on": "March"})
    with server.client() as anonymous:
        assert anonymous.get("/api/v1/incidents/limits").status_code == 401
    assert bad.status_code == 400 and bad.json()["type"] == "/problems/invalid-request" and "March" in bad.text
    assert answer["ruleset"] == on_day["ruleset"] and on_day["on"] == "2025-03-01"
    rows = answer["rows"]
    unit = next(r for r in rows if r["name"] == "leaking_pipe" and r["level"] == "unit")
    assert unit["applies_to"] == "category"
    assert unit["accept"]["span"] == "4 working hours" and unit["accept"]["working"] is True
    assert unit["accept"]["source"] == "level unit" and unit["accept"]["rule"]["rule"] == "yinquan.rules:37"
    assert unit["resolve"]["span"] == "3 working days"
    # every row, as `gridcore incidents limits` prints it from the same file
    ruleset = read_ruleset(YINQUAN / "yinquan.rules", search_path=())
    policy = ruleset.policies(SECTION)[-1].policy
    printed = limits_table(policy, ruleset.levels)

    def cell(found: dict[str, object] | None) -> str:
        return "-" if found is None else f"{found['span']} ({found['source']}, {found['rule']['rule']})"  # type: ignore[index]

    served_rows = [(r["name"] or "(any other)", r["level"], cell(r["accept"]), cell(r["resolve"]))
                   for r in rows]
    assert served_rows == [row[:4] for row in printed.rows]
    assert answer["precedence"] == printed.notes[0]
    with server.client() as anonymous:
        described = anonymous.get("/api/v1/openapi.json").json()["paths"]["/api/v1/incidents/limits"]["get"]
    assert "on" in {p["name"] for p in described["parameters"]} and "rows" in described["description"]


def test_the_services_own_refusals_come_with_their_chinese(server: Server, tokens: dict[str, str]) -> None:
    """A phone app shows ``detail_zh``: an unknown step, a bad quantity, an unknown member all carry it."""
    with server.client(tokens["leader"]) as client:
        ident = report(server, tokens["resident"])["incident"]
        step = client.post(f"/api/v1/incidents/{ident}/frobnicate")
        quantity = client.post("/api/v1/points/redemptions", json={"reward": "大米", "quantity": 0})
        member = client.get("/api/v1/points/members/nobody/balance")
    assert step.status_code == 404 and step.json()["detail_zh"].startswith("没有 'frobnicate' 这一步")
    assert quantity.status_code == 400 and quantity.json()["detail_zh"] == "数量 quantity 应为不小于 1 的整数"
    assert member.status_code == 404 and "花名册" in member.json()["detail_zh"]
    # the engine's or the roster's own message, passed on, gives its detail_zh when it carries its Chinese
    with server.client(tokens["resident"]) as client:
        nowhere = client.post("/api/v1/incidents", json={"category": "leaking_pipe", "node": "nowhere"})
    assert nowhere.status_code == 404 and nowhere.json()["detail"].startswith("unknown node 'nowhere' (未知节点)")
    # (said Chinese first, the English after it for the name only it gives)
    assert nowhere.json()["detail_zh"] == "未知节点（unknown node 'nowhere'）", nowhere.text


def test_every_message_the_service_writes_itself_has_a_detail_zh() -> None:
    """By source: a ``Problem`` whose detail is the service's own English text gives its ``detail_zh``
    (docs/service.md, Refusals); one passing on an engine's message (``str(exc)``) is not the service's."""
    import ast
    import re

    from conftest import REPO

    from gridcore.errors import has_chinese

    words = re.compile(r"[A-Za-z]{4,}")
    missing = []
    for path in sorted((REPO / "gridcore_app" / "service").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Problem"
                    and len(node.args) >= 2):
                continue
            text = "".join(n.value for n in ast.walk(node.args[1])
                           if isinstance(n, ast.Constant) and isinstance(n.value, str))
            has_zh = len(node.args) >= 3 or any(k.arg == "detail_zh" for k in node.keywords)
            if words.search(text) and not has_zh and not has_chinese(text):
                missing.append(f"{path.name}:{node.lineno}: {text[:60]!r}")
    assert missing == []


def test_a_path_or_method_no_route_takes_is_a_problem_document_too(server: Server, tokens: dict[str, str]) -> None:
    """docs/service.md: every error of the JSON API is a problem document; a phone app that calls a route
    that is not there, or with the wrong method, got Starlette's plain 'Not Found' before."""
    with server.client(tokens["leader"]) as client:
        missing = client.get("/api/v1/nope")
        wrong = client.delete("/api/v1/incidents")
        open311 = client.get("/open311/v2/nope.json")
        page = client.get("/dashboard/nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "/problems/not-found" and "openapi.json" in missing.json()["detail_zh"]
    assert wrong.status_code == 405 and wrong.json()["type"] == "/problems/method-not-allowed"
    assert "GET" in wrong.headers["allow"] and "GET" in wrong.json()["detail"] and wrong.json()["detail_zh"]
    assert open311.status_code == 404 and open311.json()[0]["code"] == 404
    assert "没有 /open311/v2/nope.json 这个接口" in open311.json()[0]["description"]
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    with server.client() as anonymous:
        assert anonymous.get("/problems/method-not-allowed").json()["title_zh"] == "不支持该请求方法"
        # what each problem means, in Chinese too; a path outside the API says so in Chinese too
        meaning = anonymous.get("/problems/unauthorized").json()
        assert "gridcore tokens issue" in meaning["description"] and "令牌" in meaning["description_zh"]
        elsewhere = anonymous.get("/nowhere")
        assert elsewhere.status_code == 404 and elsewhere.text == "Not Found (未找到)"


def test_every_problem_type_says_what_it_means_in_chinese() -> None:
    from gridcore.errors import has_chinese
    from gridcore_app.service.problems import MEANINGS_ZH, TYPES

    assert set(MEANINGS_ZH) == set(TYPES) and all(has_chinese(text) for text in MEANINGS_ZH.values())


def test_an_immediate_escalation_says_why_in_chinese_in_the_timeline_and_on_the_dashboard(
    server: Server, tokens: dict[str, str]
) -> None:
    # was: "to community yq: incident.severity >= 4 holds" in JSON and on the Chinese case page
    ident = report(server, tokens["worker"], category="sanitation", severity=4)["incident"]
    with server.client(tokens["leader"]) as leader:
        entries = leader.get(f"/api/v1/incidents/{ident}/timeline").json()["entries"]
    escalated = next(e for e in entries if e["what"] == "escalated")
    assert escalated["detail"].endswith("incident.severity >= 4 holds")  # the English as it was
    assert escalated["what_zh"] == "提级"
    assert escalated["detail_zh"].startswith("提级至社区 ") and escalated["detail_zh"].endswith(
        "因为条件 incident.severity >= 4 成立")
    assert "因为条件 incident.severity >= 4 成立" in escalated["explanation"]["summary_zh"]
    assert "holds" not in escalated["explanation"]["summary_zh"]
    with httpx.Client(base_url=server.url, cookies={"gridcore_token": tokens["leader"]}, timeout=30) as browser:
        page = browser.get(f"/dashboard/cases/{ident}").text
        english = browser.get(f"/dashboard/cases/{ident}?lang=en").text
    assert "因为条件 incident.severity &gt;= 4 成立" in page and "holds" not in page and "escalated" not in page
    assert "incident.severity &gt;= 4 holds" in english
