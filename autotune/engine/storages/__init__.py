"""Storages and locking: the local SQLite storage and its study lock (`_local.py`),
heartbeats and stale trials on a database server (`_server.py`), and which storage a run uses
(`_connect.py`).
"""
