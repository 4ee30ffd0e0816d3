-- The product API (issue 13): invitations that expire, ownership offers, audit rows that say how a change arrived,
-- keyset paging (an index behind every list's order) and idempotency keys.

-- A pending owner_add expires; existing ones get the default 14 days from now, not from when they were made.
ALTER TABLE memberships ADD COLUMN expires_at timestamptz NULL;
UPDATE memberships SET expires_at = now() + interval '14 days'
    WHERE status = 'pending' AND source = 'owner_add' AND deleted_at IS NULL;
CREATE INDEX ix_memberships_expiring ON memberships (expires_at)
    WHERE status = 'pending' AND source = 'owner_add' AND deleted_at IS NULL;

-- An owner's offer of ownership to this (active) member: the offering owner's membership, and when.
ALTER TABLE memberships ADD COLUMN ownership_offered_by uuid NULL;
ALTER TABLE memberships ADD COLUMN ownership_offered_at timestamptz NULL;

ALTER TABLE audit_events ADD COLUMN via text NOT NULL DEFAULT 'api'
    CONSTRAINT ck_audit_events_via CHECK (via IN ('api', 'webhook', 'sync'));

-- Keyset paging: each list's order, after its filter columns.
CREATE INDEX ix_memberships_org_created ON memberships (organization_id, created_at, id);
CREATE INDEX ix_memberships_user_created ON memberships (user_id, created_at, id);
CREATE INDEX ix_audit_events_org_at_id ON audit_events (organization_id, at, id);
CREATE INDEX ix_audit_events_org_subject ON audit_events (organization_id, subject_user_id, at, id);
CREATE INDEX ix_audit_events_membership_at ON audit_events (membership_id, at, id);
CREATE INDEX ix_notification_outbox_created ON notification_outbox (created_at, id);
CREATE INDEX ix_organizations_created ON organizations (created_at, id);

-- Idempotency keys: per caller, the first answer to a mutating request, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    user_id      uuid        NOT NULL,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    status_code  integer     NULL,
    content_type text        NULL,
    location     text        NULL,
    body         text        NULL,
    created_at   timestamptz NOT NULL,
    completed_at timestamptz NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX ix_idempotency_keys_expires ON idempotency_keys (expires_at);
