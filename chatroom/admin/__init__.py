"""
C{chatroom-admin}: the operator's command (PROTOCOL.md section 12).

It works on the server's own database, SQLite file or PostgreSQL, whether or
not a server runs, through the same store the server uses
(L{chatroom.store.Store}), so that its writes are the server's writes: the
same statements, the same name rules and password hashing, the same change
counter that running servers poll to notice them. It also makes a key and a
self-signed certificate for TLS (C{make-cert}).

The modules, each small: L{arguments} (the command line), L{passwordinput}
(where a password may come from), L{opening} (finding and opening the database),
L{commands} (what each command does), L{certificates} (C{make-cert}),
L{output} (how answers are written), L{errors} (how a mistake is told) and
L{main} (the console script).
"""
