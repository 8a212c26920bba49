"""WebSocket interaction (/ws) against the real daemon with Python websockets
clients: Q&A with moderation and votes across three roles, a quiz with 20
voters and the hand queue, chat review, replay with `since`, and the Q&A
exports."""
import asyncio
import csv
import io
import json

from interact_client import Client, apply_presence, join, open_session

RATES = ("[interact]\nask_burst=1000\nask_rate=100000\nchat_burst=1000\nchat_rate=100000\n"
         "msg_burst=10000\nmsg_rate=100000\n")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_three_roles_moderated_qa(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=320&height=240&bitrate=300"})

    async def scenario():
        op, _ = await join(gw, "operator:museum:Operator", "lecture")
        lec, _ = await join(gw, "lecturer:studio:Dr Ada", "lecture")
        a, snap_a = await join(gw, "school:school-1:Room 4", "lecture")
        b, snap_b = await join(gw, "school:school-2:Class 7b", "lecture")
        assert snap_a["mode"] == "snapshot" and snap_a["state"]["settings"]["moderation"] is True
        assert snap_a["state"]["you"] == {"role": "school", "site": "school-1", "name": "Room 4"}

        # A asks: pending, seen by its author and the moderators only.
        q1 = await a.call("qa.ask", text="Why is the sky blue?")
        assert q1["state"] == "pending"
        for c in (op, lec, a, b):
            await c.sync()
        for c in (op, lec, a):
            [ev] = c.take("qa.asked")
            assert ev["question"]["id"] == q1["question"]
            assert ev["question"]["state"] == "pending"
            assert ev["question"]["site"] == "school-1"
            assert ev["clock"]["source"] in ("media", "monotonic")
            assert isinstance(ev["seq"], int) and isinstance(ev["ts"], int)
        assert b.take("qa.asked") == []
        assert [q["id"] for q in (await b.call("session.join", session="lecture"))
                ["state"]["questions"]] == []
        err = await b.error("qa.vote", question=q1["question"])
        assert err["code"] == "not_found"

        # The operator approves: everyone sees it.
        await op.call("qa.approve", question=q1["question"])
        for c in (op, lec, a, b):
            await c.sync()
            [ev] = c.take("qa.approved")
            assert ev["question"]["state"] == "published"
            assert ev["question"]["text"] == "Why is the sky blue?"

        # B asks a second one, approved by the lecturer; votes put it first.
        q2 = await b.call("qa.ask", text="How far is the Moon?", anonymous=True)
        await lec.call("qa.approve", question=q2["question"])
        order = [q["id"] for q in (await a.call("session.join", session="lecture"))
                 ["state"]["questions"]]
        assert order == [q1["question"], q2["question"]]  # same votes: older first
        assert (await a.call("qa.vote", question=q2["question"]))["votes"] == 1
        assert (await b.call("qa.vote", question=q2["question"]))["votes"] == 2
        # Counts reach everyone in batched qa.votes events.
        for c in (a, b, op):
            await c.wait_event("qa.votes", lambda e: {"id": q2["question"], "votes": 2}
                               in e["questions"])
        err = await b.error("qa.vote", question=q2["question"])
        assert err["code"] == "already_voted"
        snap = (await lec.call("session.join", session="lecture"))["state"]
        assert [(q["id"], q["votes"]) for q in snap["questions"]] == [
            (q2["question"], 2), (q1["question"], 0)]
        anon = snap["questions"][0]
        assert anon["anonymous"] is True and anon["site"] is None and anon["name"] is None
        assert (await a.call("qa.unvote", question=q2["question"]))["votes"] == 1

        # Highlight one, then another: at most one is highlighted.
        await lec.call("qa.highlight", question=q1["question"])
        await lec.call("qa.highlight", question=q2["question"])
        await a.sync()
        ev = a.take("qa.highlighted")[-1]
        assert ev["question"]["id"] == q2["question"]
        assert ev["previous"]["id"] == q1["question"] and ev["previous"]["state"] == "published"

        # The lecturer marks it answered (in text); every school sees it.
        await lec.call("qa.answer", question=q2["question"], text="About 384,400 km.")
        for c in (a, b):
            await c.sync()
            [ev] = c.take("qa.answered")
            assert ev["question"]["state"] == "answered"
            assert ev["question"]["answer"] == "About 384,400 km."
            assert ev["question"]["answered"] is not None
        err = await lec.error("qa.answer", question=q2["question"])
        assert err["code"] == "invalid_state"
        await op.call("qa.dismiss", question=q1["question"])
        await op.call("qa.reopen", question=q1["question"])

        # Schools may not moderate.
        err = await a.error("qa.approve", question=q1["question"])
        assert err["code"] == "forbidden"

        # Answered-only visibility: schools see answered questions only.
        q3 = await lec.call("qa.ask", text="A question from the studio")
        assert q3["state"] == "published"  # moderators skip moderation
        await op.call("session.configure", qa_visibility="answered")
        for c, expected in ((b, [q2["question"]]), (a, [q2["question"], q1["question"]])):
            await c.sync()  # the author still sees its own question
            snaps = [m for m in c.inbox if m["type"] == "session.snapshot"]
            assert snaps, c.inbox
            assert [q["id"] for q in snaps[-1]["state"]["questions"]] == expected
        await lec.sync()
        snaps = [m for m in lec.inbox if m["type"] == "session.snapshot"]
        assert len(snaps[-1]["state"]["questions"]) == 3
        for c in (op, lec, a, b):
            await c.close()

    run(scenario())

    # The export shows the session's questions, for lecturers and operators only.
    status, _, body = gw.request("GET", "/api/v1/sessions/lecture/qa.json",
                                 headers={"Authorization": "Bearer operator:museum:Op"})
    assert status == 200, body
    rows = json.loads(body)["questions"]
    assert [r["question"] for r in rows] == [
        "How far is the Moon?", "Why is the sky blue?", "A question from the studio"]
    assert rows[0]["state"] == "answered" and rows[0]["answered_at"].endswith("Z")
    assert rows[0]["site"] is None and rows[1]["site"] == "school-1"
    status, headers, body = gw.request("GET", "/api/v1/sessions/lecture/qa.csv",
                                       headers={"Authorization": "Bearer lecturer:studio:Ada"})
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["question"] for r in table] == [r["question"] for r in rows]
    assert table[0]["votes"] == "1" and table[1]["site"] == "school-1"
    assert gw.request("GET", "/api/v1/sessions/lecture/qa.csv")[0] == 401
    assert gw.request("GET", "/api/v1/sessions/lecture/qa.csv",
                      headers={"Authorization": "Bearer school:s1:x"})[0] == 403
    assert gw.request("GET", "/api/v1/sessions/nope/qa.json",
                      headers={"Authorization": "Bearer operator:m:o"})[0] == 404


def test_csv_export_defuses_formulas(gateway_factory):
    gw = gateway_factory(streams={}, extra="[interact]\nmoderation=false\n")

    async def scenario():
        await open_session(gw, "csv")
        a, _ = await join(gw, "school:s1:Room", "csv")
        await a.call("qa.ask", text='=HYPERLINK("http://x") "quoted", comma')
        await a.close()

    run(scenario())
    status, _, body = gw.request("GET", "/api/v1/sessions/csv/qa.csv",
                                 headers={"Authorization": "Bearer operator:m:o"})
    [row] = list(csv.DictReader(io.StringIO(body.decode())))
    assert row["question"] == '\'=HYPERLINK("http://x") "quoted", comma'
    assert row["state"] == "published"


def test_quiz_results_hidden_until_published_and_hand_queue(gateway_factory):
    gw = gateway_factory(streams={}, extra=RATES)

    async def scenario():
        lec, _ = await join(gw, "lecturer:studio:Ada", "quiz")
        schools = [(await join(gw, f"school:school-{i}:Room {i}", "quiz"))[0] for i in range(20)]
        poll = await lec.call("poll.create", question="Which planet is largest?",
                              options=["Mars", "Jupiter", "Venus"], correct=[1])
        # A draft is invisible to schools.
        assert (await schools[0].error("poll.vote", poll=poll["poll"], choices=[1]))["code"] == \
            "not_found"
        await lec.call("poll.open", poll=poll["poll"])
        choices = [i % 3 for i in range(20)]
        await asyncio.gather(*(s.call("poll.vote", poll=poll["poll"], choices=[c])
                               for s, c in zip(schools, choices)))
        # A second vote replaces the first.
        await schools[0].call("poll.vote", poll=poll["poll"], choices=[2])
        choices[0] = 2
        expected = [choices.count(k) for k in range(3)]
        for s in schools:
            await s.sync()
            assert s.events("poll.voted") == []  # results are hidden
            [opened] = s.take("poll.opened")
            assert "counts" not in opened["poll"] and "correct" not in opened["poll"]
        snap = (await schools[3].call("session.join", session="quiz"))["state"]
        assert "counts" not in snap["polls"][0] and "correct" not in snap["polls"][0]
        assert (await schools[1].error("poll.publish", poll=poll["poll"]))["code"] == "forbidden"
        assert (await lec.error("poll.publish", poll=poll["poll"]))["code"] == "invalid_state"
        await lec.call("poll.close", poll=poll["poll"])
        assert (await schools[1].error("poll.vote", poll=poll["poll"], choices=[0]))["code"] == \
            "invalid_state"
        await lec.call("poll.publish", poll=poll["poll"])
        for s in schools:
            await s.sync()
            [pub] = s.take("poll.published")
            assert pub["poll"]["counts"] == expected
            assert pub["poll"]["votes"] == 20
            assert pub["poll"]["correct"] == [1]
            assert sum(pub["poll"]["sites"].values()) == 20 and len(pub["poll"]["sites"]) == 20

        # Hands: raised at once by ten schools, one order for everybody.
        for s in schools:
            s.inbox.clear()
        raisers = schools[:10]
        acks = await asyncio.gather(*(s.call("hand.raise") for s in raisers))
        final = max(acks, key=lambda a: a["seq"])["queue"]
        assert sorted(final) == sorted(f"school-{i}" for i in range(10))
        for s in schools:
            await s.sync()
            evs = s.take("hand.raised")
            assert len(evs) == 10
            assert evs[-1]["queue"] == final
            assert [e["site"] for e in evs] == final  # arrival order is the queue order
        assert (await raisers[0].error("hand.raise"))["code"] == "invalid_state"
        assert (await raisers[0].error("hand.lower", site=final[1]))["code"] == "forbidden"
        nxt = await lec.call("hand.next")
        assert nxt["site"] == final[0] and nxt["queue"] == final[1:]
        await lec.call("stage.invite", site=final[1])
        await schools[int(final[1].split("-")[1])].sync()
        inv = schools[int(final[1].split("-")[1])].take("stage.invited")
        assert inv[-1]["site"] == final[1] and final[1] not in inv[-1]["queue"]
        await lec.call("stage.remove", site=final[1])
        lowered = await schools[int(final[2].split("-")[1])].call("hand.lower")
        assert lowered["site"] == final[2]
        await lec.call("hand.lower_all")
        assert (await lec.error("hand.next"))["code"] == "invalid_state"
        for c in schools + [lec]:
            await c.close()

    run(scenario())


def test_chat_filter_slow_mode_and_off(gateway_factory):
    gw = gateway_factory(streams={}, extra="[interact]\nkeyword_filter=badword, Spam\n")

    async def scenario():
        op, _ = await join(gw, "operator:museum:Op", "chat")
        a, _ = await join(gw, "school:s1:Room", "chat")
        b, _ = await join(gw, "school:s2:Room", "chat")
        ok = await a.call("chat.send", text="Hello from room 4")
        held = await a.call("chat.send", text="buy SPAM now")
        assert ok["state"] == "published" and held["state"] == "held"
        await b.sync()
        assert [e["message"]["text"] for e in b.take("chat.message")] == ["Hello from room 4"]
        await op.sync()
        assert [e["message"]["state"] for e in op.take("chat.message")] == ["published", "held"]
        await op.call("chat.approve", message=held["message"])
        await op.call("chat.delete", message=ok["message"])
        await b.sync()
        assert [e["type"] for e in b.take()] == ["chat.approved", "chat.deleted"]
        await op.call("session.configure", slow_mode=30)
        await b.call("chat.send", text="one")
        err = await b.error("chat.send", text="two")
        assert err["code"] == "rate_limited" and 0 < err["retry_after_ms"] <= 30000
        await op.call("session.configure", chat=False, slow_mode=0)
        assert (await a.error("chat.send", text="hi"))["code"] == "chat_disabled"
        for c in (op, a, b):
            await c.close()

    run(scenario())


def test_reconnect_with_since_gets_exactly_the_missed_events(gateway_factory):
    gw = gateway_factory(streams={}, extra=RATES + "log_retain=100\nmoderation=false\n")

    async def scenario():
        lec, _ = await join(gw, "lecturer:studio:Ada", "blink")
        c, first = await join(gw, "school:s9:Room", "blink")
        await lec.call("qa.ask", text="before the blink")
        await c.sync()
        last_seen = c.events()[-1]["seq"]
        await c.close()

        produced = []
        for i in range(50):
            kind = i % 3
            if kind == 0:
                r = await lec.call("chat.send", text=f"chat {i}")
            elif kind == 1:
                r = await lec.call("qa.ask", text=f"question {i}")
            else:
                r = await lec.call("hand.raise") if i % 2 == 0 else await lec.call("hand.lower")
            produced.append(r["seq"])
        assert produced == list(range(last_seen + 1, last_seen + 51))

        c = await Client.open(gw, "school:s9:Room")
        ack = await c.call("session.join", session="blink", since=last_seen)
        got = c.events()
        assert ack["mode"] == "replay" and ack["replayed"] == 50
        assert [e["seq"] for e in got] == produced
        assert got[1]["type"] == "qa.asked" and got[1]["question"]["text"] == "question 1"
        # Live events continue after the replay, without a gap.
        c.inbox.clear()
        r = await lec.call("chat.send", text="after")
        await c.sync()
        assert [e["seq"] for e in c.events()] == [r["seq"]]
        # Up to date: nothing to replay.
        ack = await c.call("session.join", session="blink", since=r["seq"])
        assert ack == {"session": "blink", "mode": "replay", "seq": r["seq"], "replayed": 0}

        # A since older than the retained log (100 events) gets a snapshot.
        for i in range(130):
            await lec.call("chat.send", text=f"filler {i}")
        ack = await c.call("session.join", session="blink", since=1)
        assert ack["mode"] == "snapshot"
        assert len(ack["state"]["questions"]) == 1 + len([p for p in range(50) if p % 3 == 1])
        # A since from the future (e.g. another gateway) gets a snapshot too.
        ack = await c.call("session.join", session="blink", since=ack["seq"] + 1000)
        assert ack["mode"] == "snapshot"
        await c.close()
        await lec.close()

    run(scenario())


def test_state_survives_a_restart(gateway_factory):
    gw = gateway_factory(streams={}, extra=RATES)

    async def before():
        op, _ = await join(gw, "operator:museum:Op", "keep")
        a, _ = await join(gw, "school:s1:Room", "keep")
        b, _ = await join(gw, "school:s2:Room", "keep")
        q = await a.call("qa.ask", text="Will this survive?")
        await op.call("qa.approve", question=q["question"])
        await b.call("qa.vote", question=q["question"])
        await op.call("qa.answer", question=q["question"], text="Yes.")
        q2 = await a.call("qa.ask", text="Published, with a vote")
        await op.call("qa.approve", question=q2["question"])
        await b.call("qa.vote", question=q2["question"])
        # Vote counts go out batched in qa.votes events.
        await op.wait_event("qa.votes", lambda e: {"id": q2["question"], "votes": 1}
                            in e["questions"])
        await a.call("qa.ask", text="Still pending")
        poll = await op.call("poll.create", question="Q?", options=["x", "y"], correct=[0])
        await op.call("poll.open", poll=poll["poll"])
        await a.call("poll.vote", poll=poll["poll"], choices=[0])
        await b.call("poll.vote", poll=poll["poll"], choices=[1])
        await op.call("poll.close", poll=poll["poll"])
        await op.call("poll.publish", poll=poll["poll"])
        await a.call("chat.send", text="first")
        last = await a.call("chat.send", text="second")
        await op.call("chat.delete", message=last["message"])
        await b.call("hand.raise")
        await a.call("hand.raise")
        await op.call("session.configure", slow_mode=5)
        snap = (await op.call("session.join", session="keep"))["state"]
        for c in (op, a, b):
            await c.close()
        return snap, last["message"]

    snap, deleted = asyncio.run(asyncio.wait_for(before(), 60))
    assert gw.stop() == 0
    gw.start()

    async def after():
        op, again = await join(gw, "operator:museum:Op", "keep")
        state = again["state"]
        for key in ("seq", "settings", "questions", "chat", "hands", "stage", "polls"):
            assert state[key] == snap[key], key
        assert state["polls"][0]["counts"] == [1, 1] and state["hands"] == ["s2", "s1"]
        # Votes survive too: the same participant cannot vote twice.
        b, _ = await join(gw, "school:s2:Room", "keep")
        assert (await b.error("qa.vote", question=2))["code"] == "already_voted"
        assert (await b.call("qa.unvote", question=2))["votes"] == 0
        await b.wait_event("qa.votes", lambda e: {"id": 2, "votes": 0} in e["questions"])
        a, _ = await join(gw, "school:s1:Room", "keep")
        r = await a.call("chat.send", text="third")
        assert r["message"] > deleted and r["seq"] == snap["seq"] + 2  # after the unvote
        ack = await b.call("session.join", session="keep", since=snap["seq"])
        assert ack["mode"] == "replay" and ack["replayed"] == 2
        for c in (op, a, b):
            await c.close()

    run(after())


def test_presence_and_media_clock(gateway_factory):
    gw = gateway_factory(streams={"demo": "test://?width=320&height=240&bitrate=300"},
                         extra="[interact]\npresence_interval=100\nmoderation=false\n")
    gw.wait_live("demo")

    async def scenario():
        op, snap = await join(gw, "operator:museum:Op", "here")
        view = {p["site"]: p["viewers"] for p in snap["state"]["presence"]}
        assert view == {"museum": 1}
        a1, _ = await join(gw, "school:s1:Board", "here")
        a2, _ = await join(gw, "school:s1:Laptop", "here")
        b, _ = await join(gw, "school:s2:Room", "here")

        async def presence(c, want):
            for _ in range(100):
                m = await c.recv()
                if m.get("type") == "presence" and want(m):
                    return m
            raise AssertionError("no such presence")

        # Moderators get the sites that changed (absolute counts) and the totals.
        m = await presence(op, lambda m: apply_presence(view, m) == {
            "museum": 1, "s1": 2, "s2": 1})
        assert m["full"] is False and m["total"] == {"sites": 3, "viewers": 4}
        await presence(b, lambda m: m.get("total") == {"sites": 3, "viewers": 4} and "sites" not in m)
        await a2.close()
        m = await presence(op, lambda m: apply_presence(view, m) == {"museum": 1, "s1": 1, "s2": 1})
        assert m["sites"] == [{"site": "s1", "viewers": 1}]  # only what changed
        await presence(b, lambda m: m.get("total") == {"sites": 3, "viewers": 3})

        first = await a1.call("qa.ask", text="When?")
        await asyncio.sleep(0.3)
        second = await a1.call("qa.ask", text="And now?")
        await b.sync()
        e1, e2 = b.events("qa.asked")
        assert e1["clock"]["source"] == "media" and e1["clock"]["stream"] == "demo"
        assert e2["clock"]["t"] > e1["clock"]["t"] > 0
        assert [e1["seq"], e2["seq"]] == [first["seq"], second["seq"]]
        # A named main stream that does not exist: the gateway's monotonic clock.
        await op.call("session.configure", main_stream="nothere")
        await a1.call("qa.ask", text="Which clock?")
        await b.sync()
        assert b.events("qa.asked")[-1]["clock"]["source"] == "monotonic"
        await b.close()  # the last of its site: 0, and the site is gone
        m = await presence(op, lambda m: apply_presence(view, m) == {"museum": 1, "s1": 1})
        assert {"site": "s2", "viewers": 0} in m["sites"] and m["total"]["sites"] == 2
        for c in (op, a1):
            await c.close()

    run(scenario())


def test_only_moderators_open_a_session(gateway_factory):
    gw = gateway_factory(streams={})

    async def scenario():
        # A school or viewer joining a session nobody opened: not_found, and
        # nothing is created (no export, the connection stays usable).
        school = await Client.open(gw, "school:s1:Room")
        viewer = await Client.open(gw, "viewer:home:Pat")
        for c in (school, viewer):
            err = await c.error("session.join", session="typo-lecture")
            assert (err["code"], err["field"]) == ("not_found", "session"), err
            assert (await c.error("qa.vote", question=1))["code"] == "not_joined"
        status, _, _ = gw.request("GET", "/api/v1/sessions/typo-lecture/qa.json",
                                  headers={"Authorization": "Bearer operator:m:o"})
        assert status == 404
        # A lecturer opens it by joining; then the school joins the same state.
        lec, opened = await join(gw, "lecturer:studio:Ada", "typo-lecture")
        assert (opened["mode"], opened["seq"]) == ("snapshot", 0)
        await lec.call("session.configure", moderation=False)
        snap = (await school.call("session.join", session="typo-lecture"))["state"]
        assert snap["settings"]["moderation"] is False and snap["seq"] == 1
        # An operator may open one too; it survives a restart like any other.
        op, _ = await join(gw, "operator:museum:Op", "hall-visit")
        for c in (school, viewer, lec, op):
            await c.close()

    run(scenario())
    gw.stop()
    gw.start()

    async def after():
        c, got = await join(gw, "school:s1:Room", "hall-visit")
        assert got["state"]["session"] == "hall-visit"
        await c.close()

    run(after())
