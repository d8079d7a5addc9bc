"""Who may use the dashboard and what they did: sessions and the login form, access (loopback, allow-list,
open local mode), users (SQLite, bcrypt), the login throttle (Redis) and the audit log.

No web framework in `users` and `audit`: `scalperctl user ...` manages the same table and log.
"""
