"""`python -m brokercrm.ensure_db`: create the PostgreSQL database of DATABASE_URL if absent.

Used by `make up` so the production-like stack starts on a server that has no
brokercrm database yet. SQLite needs nothing.
"""

import os
import sys

import dj_database_url


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return 0
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    connection = psycopg2.connect(
        dbname="postgres", user=config["USER"] or None, password=config["PASSWORD"] or None,
        host=config["HOST"] or None, port=config["PORT"] or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
