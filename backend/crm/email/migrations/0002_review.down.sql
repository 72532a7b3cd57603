DROP TABLE email_drafts;
DROP TABLE email_proposal_matrix;
DROP TABLE email_proposals;
