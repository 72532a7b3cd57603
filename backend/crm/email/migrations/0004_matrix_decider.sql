-- A decision relayed from the Matrix review room is recorded against the bot that relayed it
-- (decided_by); this keeps who answered in the room (their Matrix id, e.g. @maria:fund.example).
ALTER TABLE email_proposals ADD COLUMN decided_matrix_user TEXT;
