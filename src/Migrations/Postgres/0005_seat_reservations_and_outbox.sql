CREATE TABLE seat_reservations (
    id                   uuid        NOT NULL PRIMARY KEY,
    organization_id      uuid        NOT NULL REFERENCES organizations (id),
    email                text        NULL,
    workos_user_id       text        NULL,
    seat_type            text        NOT NULL,
    source               text        NOT NULL CONSTRAINT ck_seat_reservations_source CHECK (source IN ('invitation', 'owner_add', 'outbound')),
    workos_invitation_id text        NULL,
    expires_at           timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    CONSTRAINT ck_seat_reservations_subject CHECK (email IS NOT NULL OR workos_user_id IS NOT NULL)
);
CREATE INDEX ix_seat_reservations_org ON seat_reservations (organization_id, seat_type, expires_at);
CREATE UNIQUE INDEX ux_seat_reservations_invitation ON seat_reservations (workos_invitation_id)
    WHERE workos_invitation_id IS NOT NULL;

CREATE TABLE notification_outbox (
    id              uuid        NOT NULL PRIMARY KEY,
    kind            text        NOT NULL,
    dedupe_key      text        NOT NULL,
    payload         text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    sent_at         timestamptz NULL,
    failed_at       timestamptz NULL,
    last_error      text        NULL,
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_notification_outbox_dedupe ON notification_outbox (dedupe_key);
CREATE INDEX ix_notification_outbox_due ON notification_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
