-- The request form's duplicate guard looks for a recent case of one service from the same
-- email address or phone number: one index for each way a resident can be reached, holding
-- only the cases that have that contact detail.
CREATE INDEX cases_contact_email_service ON cases (contact_email, service, created_at)
    WHERE contact_email IS NOT NULL;
CREATE INDEX cases_contact_phone_service ON cases (contact_phone, service, created_at)
    WHERE contact_phone IS NOT NULL;
