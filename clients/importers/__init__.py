"""The importer: parse → validate → load, one service for every door.

Each kind of file is an `ImportKind` registered in `registry`. Apps register
their own kinds from their `importers.py` (imported in AppConfig.ready()).
"""
