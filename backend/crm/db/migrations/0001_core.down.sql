DROP TABLE audit_log;
DROP TABLE app_settings;
DROP TABLE revoked_tokens;
DROP TABLE user_invites;
DROP TABLE users;
