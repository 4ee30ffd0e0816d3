CREATE TABLE seat_reservations (
    id                   TEXT NOT NULL PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    email                TEXT NULL,
    workos_user_id       TEXT NULL,
    seat_type            TEXT NOT NULL,
    source               TEXT NOT NULL CHECK (source IN ('invitation', 'owner_add', 'outbound')),
    workos_invitation_id TEXT NULL,
    expires_at           TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    CHECK (email IS NOT NULL OR workos_user_id IS NOT NULL)
);
CREATE INDEX ix_seat_reservations_org ON seat_reservations (organization_id, seat_type, expires_at);
CREATE UNIQUE INDEX ux_seat_reservations_invitation ON seat_reservations (workos_invitation_id)
    WHERE workos_invitation_id IS NOT NULL;

CREATE TABLE notification_outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT    NULL,
    failed_at       TEXT    NULL,
    last_error      TEXT    NULL,
    created_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_notification_outbox_dedupe ON notification_outbox (dedupe_key);
CREATE INDEX ix_notification_outbox_due ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
