"""The evening digest to the fund's admins (docs/DIGEST.md): compose.py builds it from collect.py,
narrative.py and render.py; runner.py sends it (scheduled, now, or a test) through mailer.py, the
one code path in the server that sends mail; schedule.py is its time rule, policy.py its settings."""
