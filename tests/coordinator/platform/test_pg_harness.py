"""The test harness's private PostgreSQL: its own server (not the machine's 5432), a fresh
database per test copied from the template."""

from __future__ import annotations

import psycopg


def test_each_test_gets_a_fresh_database_on_the_private_server(pg_dsn, postgres_server):
    with psycopg.connect(pg_dsn) as conn:
        port = conn.execute("select current_setting('port')::int").fetchone()[0]
        assert port == postgres_server.port != 5432
        assert conn.execute("select current_database()").fetchone()[0] != "citywatch_template"
        # nothing of another test's database is here: the template is empty
        assert (
            conn.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0]
            == 0
        )
        conn.execute("create table scratch (x int)")
        conn.execute("insert into scratch values (1)")


def test_a_second_test_does_not_see_the_first_tests_tables(pg_dsn):
    with psycopg.connect(pg_dsn) as conn:
        found = conn.execute("select to_regclass('public.scratch')").fetchone()[0]
        assert found is None


def test_the_template_has_the_trigram_extension(pg_dsn):
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("select similarity('zhang wei', 'zhang wen')").fetchone()[0] > 0.3
