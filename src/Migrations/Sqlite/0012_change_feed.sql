-- Roster's own change feed (issue 17): every membership change appends a row with a per-organization sequence
-- (allocated under the organization's row lock: organizations.change_sequence is the last one handed out) and, once
-- the sequencer has seen it committed, a global position. Outgoing Standard Webhooks subscriptions and their deliveries.
-- The audit chain: each audit row's hash covers the row and the hash before it (organizations.audit_head).

ALTER TABLE organizations ADD COLUMN change_sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN audit_head TEXT NULL;

ALTER TABLE audit_events ADD COLUMN sequence INTEGER NULL;
ALTER TABLE audit_events ADD COLUMN previous_hash TEXT NULL;
ALTER TABLE audit_events ADD COLUMN hash TEXT NULL;
CREATE UNIQUE INDEX ux_audit_events_org_sequence ON audit_events (organization_id, sequence) WHERE sequence IS NOT NULL;

CREATE TABLE changes (
    id              TEXT        NOT NULL PRIMARY KEY,
    organization_id TEXT        NOT NULL REFERENCES organizations (id),
    sequence        INTEGER     NOT NULL,
    position        INTEGER     NULL,
    at              TEXT NOT NULL,
    type            TEXT        NOT NULL,
    membership_id   TEXT        NULL,
    subject_user_id TEXT        NULL,
    membership      TEXT        NULL,
    previous        TEXT        NULL,
    actor_user_id   TEXT        NULL,
    via             TEXT        NOT NULL CONSTRAINT ck_changes_via CHECK (via IN ('api', 'webhook', 'sync'))
);
CREATE UNIQUE INDEX ux_changes_org_sequence ON changes (organization_id, sequence);
CREATE UNIQUE INDEX ux_changes_position ON changes (position) WHERE position IS NOT NULL;
-- What the sequencer still has to place, in each organization's order.
CREATE INDEX ix_changes_unpositioned ON changes (organization_id, sequence) WHERE position IS NULL;

-- Counters of the feed, each moved only under its own row's lock: the last position handed out, the last position
-- pruned by retention, the last delivery ordinal.
CREATE TABLE change_feed_counters (
    name  TEXT   NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO change_feed_counters (name, value) VALUES ('position', 0), ('pruned_position', 0), ('delivery', 0);

CREATE TABLE webhook_subscriptions (
    id                         TEXT        NOT NULL PRIMARY KEY,
    url                        TEXT        NOT NULL,
    types                      TEXT        NOT NULL,
    organization_id            TEXT        NULL REFERENCES organizations (id),
    description                TEXT        NULL,
    secret                     TEXT        NOT NULL,
    previous_secret            TEXT        NULL,
    previous_secret_expires_at TEXT NULL,
    disabled_at                TEXT NULL,
    disabled_reason            TEXT        NULL,
    failing_since              TEXT NULL,
    deleted_at                 TEXT NULL,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT        NOT NULL PRIMARY KEY,
    subscription_id TEXT        NOT NULL REFERENCES webhook_subscriptions (id),
    change_id       TEXT        NOT NULL,
    organization_id TEXT        NOT NULL,
    position        INTEGER     NOT NULL,
    ordinal         INTEGER     NOT NULL,
    replay          INTEGER     NOT NULL,
    status          TEXT        NOT NULL CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER     NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT NULL,
    response_code   INTEGER     NULL,
    latency_ms      INTEGER     NULL,
    last_error      TEXT        NULL,
    created_at      TEXT NOT NULL,
    completed_at    TEXT NULL
);
CREATE UNIQUE INDEX ux_webhook_deliveries_ordinal ON webhook_deliveries (ordinal);
-- The head of each (subscription, organization) line: the first pending delivery by ordinal.
CREATE INDEX ix_webhook_deliveries_line ON webhook_deliveries (subscription_id, organization_id, ordinal) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries (subscription_id, ordinal);
