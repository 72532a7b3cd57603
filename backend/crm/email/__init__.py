"""Gmail capture: mail of connected Google Workspace accounts, fetched by domain-wide delegation or per-user OAuth, parsed and linked to the CRM."""
