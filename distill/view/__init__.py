"""`distill view RUN_DIR`: browse a run's dialogues, sample windows, preference pairs and rejects in a local web page.

queries.py reads the run's complete Parquet shards in place with DuckDB (filters and LIMIT pushed into the scan,
keyset pages); pages.py renders escaped HTML; server.py serves it on 127.0.0.1.
"""
