DROP INDEX opportunities_stage_live;
CREATE INDEX opportunities_stage ON opportunities(stage);

DROP INDEX communications_date_live;
CREATE INDEX communications_date ON communications(communication_date);

DROP INDEX contacts_type_live;
CREATE INDEX contacts_type ON contacts(contact_type, status);
