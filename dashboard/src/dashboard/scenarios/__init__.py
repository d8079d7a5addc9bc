"""Production scenarios (DESIGN.md section 9) run against the live platform from the dashboard.

`steps` holds the vocabulary (a scenario is named steps, each a check polled until it holds), `checks`
and `rapid_fire` the checks, `catalogue` the scenarios, `runner` runs one at a time and records it in
Redis. Imports go one way: runner -> catalogue -> checks, rapid_fire -> steps.
"""
