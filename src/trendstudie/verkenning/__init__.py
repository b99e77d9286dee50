"""The foresight workbench (verkenning): a facilitator runs a Delphi survey on the trends that
play in one gemeente, participants score them from their phones, and the results become a trend
radar, an impact × uncertainty matrix, a 2×2 scenario frame, a base scenario and draft
challenges — a chapter of the gemeente's trend study.

- `db`: the transactional database (SQLite in TRENDSTUDIE_HOME or PostgreSQL), Alembic migrations;
- `models`: the tables;
- `service`: every change and query (create, invite, rounds, answers, export, delete);
- `aggregate`: pure functions from answers to per-item statistics;
- `frame`: the 2×2 scenario frame, base scenario and draft challenges from the knowledge base;
- `svg`: the trend radar and the matrix as SVG.
"""
