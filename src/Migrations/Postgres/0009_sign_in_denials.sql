-- Sign-ins denied at the door (WorkOS Actions) are kept beside the webhook refusals, and both carry what an admin
-- reads in the refusals list: who (email, name when known), and the seats used and the limit at that moment.
ALTER TABLE membership_refusals ADD COLUMN kind text NOT NULL DEFAULT 'webhook'
    CONSTRAINT ck_membership_refusals_kind CHECK (kind IN ('webhook', 'sign_in'));
ALTER TABLE membership_refusals ADD COLUMN email text NULL;
ALTER TABLE membership_refusals ADD COLUMN name text NULL;
ALTER TABLE membership_refusals ADD COLUMN used integer NULL;
ALTER TABLE membership_refusals ADD COLUMN seat_limit integer NULL;
-- Whether the refusal queued an admin notification: a person retrying a denied sign-in notifies at most once per window.
ALTER TABLE membership_refusals ADD COLUMN notified boolean NOT NULL DEFAULT true;

-- The refusals list pages newest first by (at, id); the sign-in gate looks up one person's recent denials.
DROP INDEX ix_membership_refusals_org;
CREATE INDEX ix_membership_refusals_org ON membership_refusals (organization_id, at, id);
CREATE INDEX ix_membership_refusals_person ON membership_refusals (organization_id, workos_user_id, at);
