"""Response models type the answer without dropping what a service returns."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from coordinator.http.answers import Answer


class Item(Answer):
    """A test answer naming two fields."""

    id: int
    name: str | None


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items", response_model=list[Item])
    def items() -> list[dict[str, object]]:
        return [{"id": 1, "name": "a", "added_later": {"x": 1}}]

    return app


def test_a_field_the_model_does_not_name_is_passed_through_not_dropped():
    with TestClient(_app()) as client:
        assert client.get("/items").json() == [{"id": 1, "name": "a", "added_later": {"x": 1}}]


def test_the_schema_names_the_declared_fields():
    schema = _app().openapi()["components"]["schemas"]["Item"]
    assert set(schema["properties"]) == {"id", "name"} and schema["required"] == ["id", "name"]
