ALTER TABLE users DROP COLUMN digest_opt_out;
