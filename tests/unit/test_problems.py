from flask import Flask

from app.web.problems import Problem, init_app


def _app() -> Flask:
    app = Flask(__name__)
    init_app(app)

    @app.get("/bad")
    def bad():
        raise Problem(422, "Unprocessable Content", "category 'x' is unknown", field="category")

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    return app


def test_problem_names_the_field():
    res = _app().test_client().get("/bad")
    assert res.status_code == 422
    assert res.mimetype == "application/problem+json"
    body = res.get_json()
    assert body["field"] == "category"
    assert body["status"] == 422
    assert body["instance"] == "/bad"
    assert body["errors"] == [{"field": "category", "detail": "category 'x' is unknown"}]


def test_unknown_route_is_problem_json():
    res = _app().test_client().get("/nope")
    assert res.status_code == 404
    assert res.mimetype == "application/problem+json"
    assert res.get_json()["title"] == "Not Found"


def test_unexpected_error_hides_internals():
    res = _app().test_client().get("/boom")
    assert res.status_code == 500
    assert "secret" not in res.get_data(as_text=True)
