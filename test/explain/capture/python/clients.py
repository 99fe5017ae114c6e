"""Makes one connection attempt with a Python database client and lets the exception escape, so
the interpreter prints the traceback an application's log shows. Used by ../capture.ts.

    python clients.py <client> '<json case>'
    client: psycopg2 | psycopg | asyncpg | sqlalchemy | pymongo | cassandra
"""
import json
import sys


def pause(statement: str) -> bool:
    if not statement.startswith("@sleep "):
        return False
    import time
    time.sleep(int(statement.split()[1]) / 1000)
    return True


def main() -> None:
    client, case = sys.argv[1], json.loads(sys.argv[2])
    timeout = case.get("timeoutMs", 3000) / 1000
    # "sql": statements to run once connected ("@sleep <ms>" pauses), for faults inside a session.
    statements = case.get("sql", [])
    if client in ("psycopg2", "psycopg"):
        driver = __import__(client)
        connection = driver.connect(case["url"])
        cursor = connection.cursor()
        for statement in statements:
            pause(statement) or cursor.execute(statement)
        connection.close()
    elif client == "asyncpg":
        import asyncio
        import asyncpg

        async def attempt() -> None:
            connection = await asyncpg.connect(case["url"], timeout=timeout)
            for statement in statements:
                pause(statement) or await connection.execute(statement)
            await connection.close()

        asyncio.run(attempt())
    elif client == "sqlalchemy":
        import sqlalchemy
        engine = sqlalchemy.create_engine(case["url"].replace("postgresql://", "postgresql+psycopg2://", 1))
        with engine.connect() as connection:
            for statement in statements or ["SELECT 1"]:
                pause(statement) or connection.execute(sqlalchemy.text(statement))
    elif client == "pymongo":
        import pymongo
        mongo = pymongo.MongoClient(case["url"], serverSelectionTimeoutMS=int(timeout * 1000), connectTimeoutMS=int(timeout * 1000))
        # "command": the admin command to run once connected (ping needs no login; listDatabases does).
        mongo.admin.command(case.get("command", "ping"))
    elif client == "cassandra":
        from cassandra.cluster import Cluster
        from cassandra.auth import PlainTextAuthProvider
        options = {"port": case["port"], "connect_timeout": timeout, "control_connection_timeout": timeout}
        if case.get("user"):
            options["auth_provider"] = PlainTextAuthProvider(username=case["user"], password=case["password"])
        if case.get("tls"):
            import ssl
            context = ssl.create_default_context(cafile=case.get("caFile"))
            options["ssl_context"] = context
            options["ssl_options"] = {"server_hostname": case["host"]}
        if case.get("dc"):
            from cassandra.policies import DCAwareRoundRobinPolicy
            options["load_balancing_policy"] = DCAwareRoundRobinPolicy(local_dc=case["dc"])
        session = Cluster([case["host"]], protocol_version=case.get("protocolVersion", 4), **options).connect(case.get("keyspace"))
        if case.get("cql"):
            from cassandra import ConsistencyLevel
            from cassandra.query import SimpleStatement
            level = getattr(ConsistencyLevel, case.get("consistency", "LOCAL_ONE"))
            session.execute(SimpleStatement(case["cql"], consistency_level=level))
    else:
        raise SystemExit(f"unknown client {client}")
    print("connected")


if __name__ == "__main__":
    main()
