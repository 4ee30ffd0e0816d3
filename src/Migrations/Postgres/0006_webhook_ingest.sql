-- Every WorkOS event Roster has seen, once: the dedupe key for webhooks and, later, the Events API.
CREATE TABLE webhook_events (
    event_id    text        NOT NULL PRIMARY KEY,
    type        text        NOT NULL,
    received_at timestamptz NOT NULL,
    outcome     text        NOT NULL CONSTRAINT ck_webhook_events_outcome CHECK (outcome IN ('applied', 'refused', 'stale', 'ignored')),
    detail      text        NULL,
    payload     text        NOT NULL
);
CREATE INDEX ix_webhook_events_received ON webhook_events (received_at);

-- Un-staged WorkOS adds that would have exceeded the organization's paid seats.
CREATE TABLE membership_refusals (
    id                     uuid        NOT NULL PRIMARY KEY,
    organization_id        uuid        NOT NULL REFERENCES organizations (id),
    workos_organization_id text        NULL,
    workos_user_id         text        NOT NULL,
    workos_membership_id   text        NULL,
    seat_type              text        NOT NULL,
    reason                 text        NOT NULL,
    event_id               text        NOT NULL,
    at                     timestamptz NOT NULL
);
CREATE INDEX ix_membership_refusals_org ON membership_refusals (organization_id, at);

-- Which usage threshold (0, 80, 100 percent) each organization's seat type last warned about.
CREATE TABLE seat_warning_states (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    seat_type       text        NOT NULL,
    level           integer     NOT NULL DEFAULT 0,
    crossings       integer     NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (organization_id, seat_type)
);

-- A mirrored membership is found by its WorkOS user while the local user is still unknown.
CREATE INDEX ix_memberships_org_workos_user ON memberships (organization_id, workos_user_id);
CREATE INDEX ix_seat_reservations_workos_user ON seat_reservations (organization_id, workos_user_id);
CREATE INDEX ix_seat_reservations_email ON seat_reservations (organization_id, email);

-- A deleted (tombstoned) user keeps their row; their email may come back as a new WorkOS user.
DROP INDEX ux_users_email;
CREATE UNIQUE INDEX ux_users_email ON users (email) WHERE deleted_at IS NULL;
