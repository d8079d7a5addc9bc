"""Production scenarios (DESIGN.md section 9) run against the live platform from the dashboard.

`steps` holds the vocabulary (a scenario is named steps, each a check polled until it holds), `checks`
the platform checks, `units` systemctl, `full_boot`, `deploy`, `rapid_fire` and `replay_isolation` (with
`sandbox`, the launcher of its child process) the checks of scenarios 1, 2, 6 and 7, `catalogue` the
scenarios, `runner` runs one at a time and records it in Redis (a resumable one across a dashboard
restart). Imports go one way: runner -> catalogue -> full_boot, deploy, rapid_fire, replay_isolation ->
checks, units -> steps, sandbox.
"""
