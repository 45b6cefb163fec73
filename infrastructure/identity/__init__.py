"""Who is who, and with which key: accounts' passwords and sessions, the common passwords they
may not be, the server's and the sponsor's keys and the private files every secret is kept in,
and the authentication log that records each sign-in, failure and lockout as a signed event.
"""
