-- The schema as the seed system first shipped it: memberships carry no `source` yet.
CREATE TABLE organizations (
    id                     uuid        NOT NULL PRIMARY KEY,
    workos_organization_id text        NULL,
    name                   text        NOT NULL,
    plan                   text        NULL,
    seat_lock_version      bigint      NOT NULL DEFAULT 0,
    workos_updated_at      timestamptz NULL,
    workos_last_event_id   text        NULL,
    deleted_at             timestamptz NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_organizations_workos_id ON organizations (workos_organization_id) WHERE workos_organization_id IS NOT NULL;

CREATE TABLE users (
    id                   uuid        NOT NULL PRIMARY KEY,
    workos_user_id       text        NULL,
    email                text        NOT NULL,
    email_verified       boolean     NOT NULL DEFAULT false,
    name                 text        NULL,
    slack_user_id        text        NULL,
    workos_updated_at    timestamptz NULL,
    workos_last_event_id text        NULL,
    deleted_at           timestamptz NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_users_email ON users (email);
CREATE UNIQUE INDEX ux_users_workos_id ON users (workos_user_id) WHERE workos_user_id IS NOT NULL;

CREATE TABLE memberships (
    id                   uuid        NOT NULL PRIMARY KEY,
    organization_id      uuid        NOT NULL REFERENCES organizations (id),
    user_id              uuid        NULL REFERENCES users (id),
    workos_user_id       text        NULL,
    workos_membership_id text        NULL,
    role                 text        NOT NULL,
    status               text        NOT NULL CONSTRAINT ck_memberships_status CHECK (status IN ('pending', 'active', 'inactive')),
    seat_type            text        NOT NULL,
    added_by             uuid        NULL,
    workos_updated_at    timestamptz NULL,
    workos_last_event_id text        NULL,
    deleted_at           timestamptz NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX ix_memberships_org_status ON memberships (organization_id, status);
CREATE INDEX ix_memberships_user_status ON memberships (user_id, status);

CREATE TABLE audit_events (
    id              uuid        NOT NULL PRIMARY KEY,
    organization_id uuid        NOT NULL,
    membership_id   uuid        NULL,
    actor_user_id   uuid        NULL,
    subject_user_id uuid        NULL,
    action          text        NOT NULL,
    old_role        text        NULL,
    new_role        text        NULL,
    old_status      text        NULL,
    new_status      text        NULL,
    source          text        NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX ix_audit_events_org_at ON audit_events (organization_id, at);
CREATE INDEX ix_audit_events_membership ON audit_events (membership_id);
