ALTER TABLE email_proposals DROP COLUMN decided_matrix_user;
