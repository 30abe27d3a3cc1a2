"""The PostgreSQL ledger: where results, watermarks and runs are kept.

`connect` opens it (DATABASE_URL or the embedded server) and applies migrations; `store`
is the one module that talks SQL, through the named queries in `sql/queries.sql`;
`embedded` starts the bundled server; `dsn` hides passwords in DSN text. This package
imports nothing at import time so that `config` can use `dsn` without loading psycopg.
"""
