"""The evening digest to the fund's admins. For now its mailer only (mailer.py): the one code path
in the server that sends mail."""
