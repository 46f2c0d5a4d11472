"""
The database's schemas, as SQL files: C{vN.sql} builds version N from nothing,
C{upgrade-to-vN.sql} takes N-1 to N; SQLite's here, PostgreSQL's in
C{postgresql/}, at the same versions. L{chatroom.migrations} applies them; how
to add a version (a table, a column) is told in L{chatroom.statements}.
"""
