-- Roster's own change feed (issue 17): every membership change appends a row with a per-organization sequence
-- (allocated under the organization's row lock: organizations.change_sequence is the last one handed out) and, once
-- the sequencer has seen it committed, a global position. Outgoing Standard Webhooks subscriptions and their deliveries.
-- The audit chain: each audit row's hash covers the row and the hash before it (organizations.audit_head).

ALTER TABLE organizations ADD COLUMN change_sequence bigint NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN audit_head text NULL;

ALTER TABLE audit_events ADD COLUMN sequence bigint NULL;
ALTER TABLE audit_events ADD COLUMN previous_hash text NULL;
ALTER TABLE audit_events ADD COLUMN hash text NULL;
CREATE UNIQUE INDEX ux_audit_events_org_sequence ON audit_events (organization_id, sequence) WHERE sequence IS NOT NULL;

CREATE TABLE changes (
    id              uuid        NOT NULL PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    sequence        bigint      NOT NULL,
    position        bigint      NULL,
    at              timestamptz NOT NULL,
    type            text        NOT NULL,
    membership_id   uuid        NULL,
    subject_user_id uuid        NULL,
    membership      text        NULL,
    previous        text        NULL,
    actor_user_id   uuid        NULL,
    via             text        NOT NULL CONSTRAINT ck_changes_via CHECK (via IN ('api', 'webhook', 'sync'))
);
CREATE UNIQUE INDEX ux_changes_org_sequence ON changes (organization_id, sequence);
CREATE UNIQUE INDEX ux_changes_position ON changes (position) WHERE position IS NOT NULL;
-- What the sequencer still has to place, in each organization's order.
CREATE INDEX ix_changes_unpositioned ON changes (organization_id, sequence) WHERE position IS NULL;

-- Counters of the feed, each moved only under its own row's lock: the last position handed out, the last position
-- pruned by retention, the last delivery ordinal.
CREATE TABLE change_feed_counters (
    name  text   NOT NULL PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO change_feed_counters (name, value) VALUES ('position', 0), ('pruned_position', 0), ('delivery', 0);

CREATE TABLE webhook_subscriptions (
    id                         uuid        NOT NULL PRIMARY KEY,
    url                        text        NOT NULL,
    types                      text        NOT NULL,
    organization_id            uuid        NULL REFERENCES organizations (id),
    description                text        NULL,
    secret                     text        NOT NULL,
    previous_secret            text        NULL,
    previous_secret_expires_at timestamptz NULL,
    disabled_at                timestamptz NULL,
    disabled_reason            text        NULL,
    failing_since              timestamptz NULL,
    deleted_at                 timestamptz NULL,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              uuid        NOT NULL PRIMARY KEY,
    subscription_id uuid        NOT NULL REFERENCES webhook_subscriptions (id),
    change_id       uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    position        bigint      NOT NULL,
    ordinal         bigint      NOT NULL,
    replay          boolean     NOT NULL,
    status          text        NOT NULL CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer     NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz NULL,
    response_code   integer     NULL,
    latency_ms      integer     NULL,
    last_error      text        NULL,
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz NULL
);
CREATE UNIQUE INDEX ux_webhook_deliveries_ordinal ON webhook_deliveries (ordinal);
-- The head of each (subscription, organization) line: the first pending delivery by ordinal.
CREATE INDEX ix_webhook_deliveries_line ON webhook_deliveries (subscription_id, organization_id, ordinal) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries (subscription_id, ordinal);
