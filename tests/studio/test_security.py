"""Sign-in, CSRF, cookie flags, headers and escaping of the studio (in-process client, real store)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.conftest import KEY
from tests.studio.conftest import flash

SINGLE = "CustomSingleLabelClassification"
PAGES = ["", "/schema", "/data", "/tag", "/train", "/evaluate", "/deployments", "/try"]


def _login(client: TestClient, key: str = KEY):
    page = client.get("/studio")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    return client.post("/studio/login", data={"key": key, "token": token})


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def studio(settings):
    from tagwise.server import create_app

    with TestClient(create_app(settings, run_jobs=False), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def signed_in(studio):
    response = _login(studio)
    studio.csrf = _csrf(response.text)
    return studio


def test_visitor_sees_only_the_sign_in_page(studio):
    from tagwise.core import tagging

    tagging.create_project(studio.app.state.ctx, "secret-project", SINGLE, "en")
    home = studio.get("/studio")
    assert home.status_code == 200 and "Sign in" in home.text and "secret-project" not in home.text
    for path in PAGES:
        response = studio.get(f"/studio/p/secret-project{path}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/studio?next=%2Fstudio%2Fp%2Fsecret-project{quote(path, safe='')}", path
    assert studio.get("/studio/p/secret-project/train/x.json").status_code == 401
    refused = studio.post("/studio/projects", data={"name": "x"})
    assert "Sign in" in refused.text and "secret-project" not in refused.text
    assert [p["name"] for p in _projects(studio)] == ["secret-project"]
    assert studio.get("/studio/static/studio.css").status_code == 200  # assets are public


def test_wrong_key_is_refused(studio):
    response = _login(studio, "wrong")
    assert "not an API key" in response.text and "tagwise_studio" not in studio.cookies


def test_sign_ins_with_wrong_keys_are_held_up(settings):
    # failed sign-ins were not throttled: a key could be guessed as fast as the server answered
    from tagwise.server import create_app

    with TestClient(create_app(settings.model_copy(update={"wrong_keys_per_minute": 2}), run_jobs=False),
                    base_url="http://127.0.0.1") as studio:
        assert [_login(studio, f"guess{n}").status_code for n in range(2)] == [401, 401]
        held = _login(studio)  # the right key, next: not told apart from a guess
        assert held.status_code == 429 and "Too many wrong API keys from this address" in held.text
        assert int(held.headers["Retry-After"]) == 30  # one guess every 30 s at 2 a minute
        assert "tagwise_studio" not in studio.cookies
        # the API's header and the sign-in form count together
        assert studio.get("/language/authoring/analyze-text/projects", params={"api-version": "2023-04-01"},
                          headers={"Ocp-Apim-Subscription-Key": KEY}).status_code == 429


def test_sign_in_form_needs_its_token(studio):
    studio.get("/studio")
    response = studio.post("/studio/login", data={"key": KEY, "token": "forged"})
    assert "expired" in response.text and "tagwise_studio" not in studio.cookies


def test_session_cookie_flags_on_http(studio):
    studio.get("/studio")
    token = re.search(r'name="token" value="([^"]+)"', studio.get("/studio").text).group(1)
    response = studio.post("/studio/login", data={"key": KEY, "token": token}, follow_redirects=False)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("tagwise_studio="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/studio" in cookie
    assert "Secure" not in cookie  # Chromium would not send it back to http://127.0.0.1


def test_session_cookie_is_secure_over_https(settings):
    from tagwise.server import create_app

    with TestClient(create_app(settings, run_jobs=False), base_url="https://tagwise.example") as client:
        token = re.search(r'name="token" value="([^"]+)"', client.get("/studio").text).group(1)
        response = client.post("/studio/login", data={"key": KEY, "token": token}, follow_redirects=False)
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("tagwise_studio="))
        assert "Secure" in cookie and "HttpOnly" in cookie
        # the flash message's cookie too (it had none)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/studio").text).group(1)
        created = client.post("/studio/projects", data={"name": "p1", "kind": SINGLE, "language": "en", "csrf": csrf},
                              follow_redirects=False)
        flashed = next(v for k, v in created.headers.multi_items() if k == "set-cookie" and v.startswith("tagwise_studio_flash="))
        assert "Secure" in flashed and "HttpOnly" in flashed


def test_writes_need_the_csrf_token(signed_in):
    response = signed_in.post("/studio/projects", data={"name": "p1", "kind": SINGLE, "language": "en", "csrf": "nope"})
    assert "security token" in response.text
    assert signed_in.post("/studio/projects", data={"name": "p1", "kind": SINGLE, "language": "en"}).status_code == 200
    assert "p1" not in [p["name"] for p in _projects(signed_in)]
    signed_in.post("/studio/projects", data={"name": "p1", "kind": SINGLE, "language": "en", "csrf": signed_in.csrf})
    assert "p1" in [p["name"] for p in _projects(signed_in)]
    page = signed_in.post("/studio/projects", data={"name": "p2", "kind": SINGLE, "language": "de", "multilingual": "true", "csrf": signed_in.csrf})
    assert "de, multilingual" in page.text and next(p for p in _projects(signed_in) if p["name"] == "p2")["multilingual"]


def test_a_form_another_site_sent_is_refused_even_with_the_cookies(studio):
    # a page on another port of this host can set the studio's cookies (cookies ignore ports): it planted the sign-in
    # token, posted its own key, and the visitor's next tags were saved as the attacker's; browsers say where a form came from
    page = studio.get("/studio")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    for site in ("same-site", "cross-site"):
        refused = studio.post("/studio/login", data={"key": KEY, "token": token}, headers={"Sec-Fetch-Site": site})
        assert "another site" in flash(refused.text) and 'name="key"' in refused.text  # still signed out
    signed = studio.post("/studio/login", data={"key": KEY, "token": token}, headers={"Sec-Fetch-Site": "same-origin"})
    csrf = _csrf(signed.text)
    refused = studio.post("/studio/projects", data={"name": "p9", "kind": SINGLE, "language": "en", "csrf": csrf},
                          headers={"Sec-Fetch-Site": "same-site"})
    assert "another site" in flash(refused.text) and "p9" not in [p["name"] for p in _projects(studio)]
    studio.post("/studio/projects", data={"name": "p9", "kind": SINGLE, "language": "en", "csrf": csrf})  # no header: an older browser
    assert "p9" in [p["name"] for p in _projects(studio)]


def test_studio_writes_count_against_the_keys_rate_limit(studio):
    # a key limited to 5 a minute got 429 from the API's 6th request and 30 studio tries in a row
    from tagwise.core import keys

    _, secret = keys.create(studio.app.state.ctx, "slow", "authoring", 5)
    studio.csrf = _csrf(_login(studio, secret).text)
    answers = [studio.post("/studio/projects", data={"name": f"p{i}", "kind": SINGLE, "language": "en", "csrf": studio.csrf})
               for i in range(7)]
    assert not any("limit" in flash(a.text) for a in answers[:5])
    assert "Too many requests for this key: its limit is 5 a minute" in flash(answers[5].text)
    assert sorted(p["name"] for p in _projects(studio)) == ["p0", "p1", "p2", "p3", "p4"]
    # the page's script (an upload, Try it) asks for JSON: it got a 500 without Retry-After, where the API answers 429
    upload = studio.post("/studio/p/p0/data/upload", data={"csrf": studio.csrf}, headers={"Accept": "application/json"},
                         files=[("files", ("a.txt", b"some text", "text/plain"))])
    assert upload.status_code == 429 and int(upload.headers["Retry-After"]) >= 1
    assert upload.json()["error"]["code"] == "TooManyRequests"
    studio.post("/studio/logout", data={"csrf": studio.csrf})  # signing out works at the limit too
    assert "Sign in" in studio.get("/studio").text


def test_the_studios_heavy_reads_count_against_the_keys_rate_limit_and_browsing_does_not(studio):
    # a key limited to 2 a minute downloaded every document 120 times in 1.6 s through the studio's pages
    from tagwise.core import keys, tagging

    tagging.create_project(studio.app.state.ctx, "p0", SINGLE, "en")
    _, secret = keys.create(studio.app.state.ctx, "slow", "authoring", 2)
    studio.csrf = _csrf(_login(studio, secret).text)
    downloads = [studio.get("/studio/p/p0/data.csv") for _ in range(3)]
    assert [d.status_code for d in downloads] == [200, 200, 429]
    assert "Too many requests for this key: its limit is 2 a minute" in downloads[2].text
    assert studio.get("/studio/p/p0/compare").status_code == 429
    assert all(studio.get(page).status_code == 200 for page in ("/studio/p/p0", "/studio/p/p0/data", "/studio/p/p0/schema"))


def test_an_upload_refused_by_a_busy_store_says_when_to_try_again(signed_in, settings, monkeypatch):
    # the page's script got the store's 503 without Retry-After, where the API gives one
    from tagwise.storage import db as db_module
    from tests.storage.test_db import _hold_the_file

    monkeypatch.setattr(db_module, "WRITE_WAIT_S", 1.0)
    signed_in.post("/studio/projects", data={"name": "p0", "kind": SINGLE, "language": "en", "csrf": signed_in.csrf})
    done, thread = _hold_the_file(str(settings.sqlite_file), 30)
    try:
        upload = signed_in.post("/studio/p/p0/data/upload", data={"csrf": signed_in.csrf}, headers={"Accept": "application/json"},
                                files=[("files", ("a.txt", b"some text", "text/plain"))])
    finally:
        done.set()
        thread.join()
    assert upload.status_code == 503 and upload.headers["Retry-After"] == "5"
    assert upload.json()["error"]["message"].startswith("The store is busy")


def test_sign_out_ends_the_session(signed_in):
    stolen = signed_in.cookies["tagwise_studio"]  # e.g. copied off the machine before signing out
    signed_in.post("/studio/logout", data={"csrf": signed_in.csrf})
    assert "Sign in" in signed_in.get("/studio").text
    signed_in.cookies.set("tagwise_studio", stolen, path="/studio")
    assert "Sign in" in signed_in.get("/studio").text
    assert signed_in.post("/studio/projects", data={"name": "x", "kind": SINGLE, "csrf": signed_in.csrf}).url.path == "/studio"
    assert _projects(signed_in) == []


def test_the_cookie_and_the_store_hold_nothing_of_the_key(signed_in):
    from sqlalchemy import text

    cookie = signed_in.cookies["tagwise_studio"]
    assert KEY not in cookie and len(cookie) >= 40
    with signed_in.app.state.ctx.db.read() as conn:
        rows = conn.execute(text("select * from studio_sessions")).all()
    assert len(rows) == 1 and cookie not in str(rows) and KEY not in str(rows)  # only the token's SHA-256


def test_changing_the_bootstrap_key_signs_its_sessions_out(signed_in, settings):
    from tagwise.server import create_app

    cookie = signed_in.cookies["tagwise_studio"]
    restarted = create_app(settings.model_copy(update={"api_key": "a-new-key-0123456789"}), run_jobs=False)
    with TestClient(restarted, base_url="http://127.0.0.1") as client:
        client.cookies.set("tagwise_studio", cookie, path="/studio")
        assert "Sign in" in client.get("/studio").text
    same = create_app(settings, run_jobs=False)  # the same key again: the session still holds
    with TestClient(same, base_url="http://127.0.0.1") as client:
        client.cookies.set("tagwise_studio", cookie, path="/studio")
        assert "Your projects" in client.get("/studio").text


def test_a_form_sent_after_the_session_ended_asks_to_sign_in_again_and_comes_back(signed_in):
    from tagwise.core import tagging

    tagging.create_project(signed_in.app.state.ctx, "t", SINGLE, "en")
    signed_in.post("/studio/logout", data={"csrf": signed_in.csrf})  # e.g. in another tab
    sent = signed_in.post("/studio/p/t/try", data={"csrf": signed_in.csrf, "deployment": "d", "text": "hello"},
                          headers={"referer": "http://127.0.0.1/studio/p/t/try?deployment=d"})
    assert sent.status_code == 200 and sent.url.path == "/studio" and "sign in again" in flash(sent.text)
    # the studio's JSON endpoints (the page's script) still answer 401
    assert signed_in.get("/studio/p/t/train/x.json").status_code == 401
    uploaded = signed_in.post("/studio/p/t/data/upload", data={"csrf": signed_in.csrf}, files={"files": ("a.txt", b"hi")},
                              headers={"accept": "application/json"})
    assert uploaded.status_code == 401 and uploaded.json()["error"]["code"] == "Unauthorized"
    # signing in goes back to the page the form was on
    token = re.search(r'name="token" value="([^"]+)"', sent.text).group(1)
    back = re.search(r'name="next" value="([^"]+)"', sent.text).group(1)
    page = signed_in.post("/studio/login", data={"key": KEY, "token": token, "next": back})
    assert page.url.path == "/studio/p/t/try" and page.url.query == b"deployment=d" and "Try it" in page.text


def test_an_upload_with_a_stale_token_answers_the_script_in_json(signed_in):
    from tagwise.core import tagging

    tagging.create_project(signed_in.app.state.ctx, "u", SINGLE, "en")
    response = signed_in.post("/studio/p/u/data/upload", data={"csrf": "stale"}, files={"files": ("a.txt", b"hi")},
                              headers={"accept": "application/json"})
    assert response.status_code == 403 and "security token is missing or stale" in response.json()["error"]["message"]


def test_security_headers(signed_in):
    response = signed_in.get("/studio")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and "https://" not in response.text  # no inline script, no CDN


def test_text_and_class_names_are_escaped(signed_in):
    from tagwise.core import schema, tagging

    ctx = signed_in.app.state.ctx
    evil = '<img src=x onerror="alert(1)">'
    tagging.create_project(ctx, "xss", SINGLE, "en", description=f"<script>alert('d')</script>{evil}")
    schema.add_class(ctx, "xss", evil)
    tagging.add_documents(ctx, "xss", [{"location": "a.txt", "text": f"</div><script>alert('t')</script>{evil}", "labels": [evil]}])
    for path in ["", "/schema", "/data", "/tag", "/tag?doc=1", "/evaluate"]:
        html = signed_in.get(f"/studio/p/xss{path}").text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in signed_in.get("/studio/p/xss/tag?doc=1").text


def test_domain_errors_are_readable_pages(signed_in):
    missing = signed_in.get("/studio/p/nope")
    assert missing.status_code == 404 and "could not be found" in missing.text
    signed_in.post("/studio/projects", data={"name": "dup", "kind": SINGLE, "language": "en", "csrf": signed_in.csrf})
    again = signed_in.post("/studio/projects", data={"name": "dup", "kind": SINGLE, "language": "en", "csrf": signed_in.csrf},
                           headers={"referer": "http://127.0.0.1/studio"})
    assert again.status_code == 409 and "already exists" in again.text  # the form again, as typed


def test_redirects_stay_on_the_studio(signed_in):
    from tagwise.core import schema, tagging

    ctx = signed_in.app.state.ctx
    tagging.create_project(ctx, "r", SINGLE, "en")
    schema.add_class(ctx, "r", "a")
    tagging.add_documents(ctx, "r", [{"location": "d.txt", "text": "hello"}])
    response = signed_in.post("/studio/p/r/tag", data={"csrf": signed_in.csrf, "doc": "1", "tag": "a", "then": "back", "location": "d.txt",
                                                       "seen": "null", "back": "https://evil.example/phish"}, follow_redirects=False)
    assert response.headers["location"].startswith("/studio/")
    signed_in.post("/studio/logout", data={"csrf": signed_in.csrf})
    token = re.search(r'name="token" value="([^"]+)"', signed_in.get("/studio").text).group(1)
    for target in ("https://evil.example/phish", "//evil.example/x", "/elsewhere"):
        response = signed_in.post("/studio/login", data={"key": KEY, "token": token, "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/studio", target
        signed_in.cookies.delete("tagwise_studio", path="/studio")


def _projects(client: TestClient) -> list[dict]:
    from tagwise.core import projects

    return projects.list_all(client.app.state.ctx)


def test_malformed_fields_give_a_readable_message(signed_in):
    from tagwise.core import tagging

    tagging.create_project(signed_in.app.state.ctx, "v", SINGLE, "en")
    page = signed_in.get("/studio/p/v/tag?doc=abc")
    assert page.status_code == 400 and "is not valid" in page.text and "<html" in page.text
    posted = signed_in.post("/studio/p/v/train", data={"csrf": signed_in.csrf, "label": "m", "train_pct": "lots"},
                            headers={"referer": "http://127.0.0.1/studio/p/v/train"})
    assert posted.status_code == 200 and "train_pct" in posted.text and posted.url.path == "/studio/p/v/train"
    # a client that sends no Referer went back to the list of every project
    bare = signed_in.post("/studio/p/v/train", data={"csrf": signed_in.csrf, "label": "m", "train_pct": "lots"})
    assert bare.url.path == "/studio/p/v" and "train_pct" in bare.text


def test_managed_keys_authoring_signs_in_runtime_does_not_and_revoking_ends_the_session(studio):
    from tagwise.core import keys

    ctx = studio.app.state.ctx
    _, runtime_secret = keys.create(ctx, "classifier", keys.RUNTIME)
    refused = _login(studio, runtime_secret)
    assert "runtime key" in refused.text and "tagwise_studio" not in studio.cookies

    authoring, secret = keys.create(ctx, "alice", keys.AUTHORING)
    assert "Your projects" in _login(studio, secret).text
    keys.revoke(ctx, authoring["id"])
    assert "Sign in" in studio.get("/studio").text  # at once: the revocation ended its sessions in the store
    again = _login(studio, secret)  # it said "not an API key of this server"
    assert "That key (&#39;alice&#39;) was revoked on" in again.text or "That key ('alice') was revoked on" in again.text, again.text[:2000]


def test_a_form_is_not_read_before_the_session_is_checked_and_one_it_cannot_parse_is_a_readable_refusal(signed_in, studio):
    from tagwise.core import tagging

    tagging.create_project(signed_in.app.state.ctx, "w", SINGLE, "en")
    # a visitor's malformed upload was parsed first (a JSON 400 "InternalServerError"): the body is not read now
    visitor = TestClient(studio.app, base_url="http://127.0.0.1")
    refused = visitor.post("/studio/p/w/data/upload", content=b"abc", headers={"content-type": "multipart/form-data"},
                           follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/studio")
    # signed in: 1,001 files are refused with what to do, as a page's flash or the script's JSON
    files = [("files", (f"{i}.txt", b"hi")) for i in range(1_001)]
    page = signed_in.post("/studio/p/w/data/upload", data={"csrf": signed_in.csrf}, files=files,
                          headers={"referer": "http://127.0.0.1/studio/p/w/data"})
    assert page.url.path == "/studio/p/w/data" and "at most 1,000 files an upload" in flash(page.text)
    script = signed_in.post("/studio/p/w/data/upload", data={"csrf": signed_in.csrf}, files=files, headers={"accept": "application/json"})
    assert script.status_code == 400 and script.json()["error"]["code"] == "InvalidRequest"
    assert "Maximum number of files is 1000" in script.json()["error"]["message"]
