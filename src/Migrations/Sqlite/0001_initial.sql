-- The schema as the seed system first shipped it: memberships carry no `source` yet.
CREATE TABLE organizations (
    id                     TEXT    NOT NULL PRIMARY KEY,
    workos_organization_id TEXT    NULL,
    name                   TEXT    NOT NULL,
    plan                   TEXT    NULL,
    seat_lock_version      INTEGER NOT NULL DEFAULT 0,
    workos_updated_at      TEXT    NULL,
    workos_last_event_id   TEXT    NULL,
    deleted_at             TEXT    NULL,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_organizations_workos_id ON organizations (workos_organization_id) WHERE workos_organization_id IS NOT NULL;

CREATE TABLE users (
    id                   TEXT    NOT NULL PRIMARY KEY,
    workos_user_id       TEXT    NULL,
    email                TEXT    NOT NULL,
    email_verified       INTEGER NOT NULL DEFAULT 0,
    name                 TEXT    NULL,
    slack_user_id        TEXT    NULL,
    workos_updated_at    TEXT    NULL,
    workos_last_event_id TEXT    NULL,
    deleted_at           TEXT    NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE UNIQUE INDEX ux_users_email ON users (email);
CREATE UNIQUE INDEX ux_users_workos_id ON users (workos_user_id) WHERE workos_user_id IS NOT NULL;

CREATE TABLE memberships (
    id                   TEXT NOT NULL PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    user_id              TEXT NULL REFERENCES users (id),
    workos_user_id       TEXT NULL,
    workos_membership_id TEXT NULL,
    role                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'active', 'inactive')),
    seat_type            TEXT NOT NULL,
    added_by             TEXT NULL,
    workos_updated_at    TEXT NULL,
    workos_last_event_id TEXT NULL,
    deleted_at           TEXT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX ix_memberships_org_status ON memberships (organization_id, status);
CREATE INDEX ix_memberships_user_status ON memberships (user_id, status);

CREATE TABLE audit_events (
    id              TEXT NOT NULL PRIMARY KEY,
    organization_id TEXT NOT NULL,
    membership_id   TEXT NULL,
    actor_user_id   TEXT NULL,
    subject_user_id TEXT NULL,
    action          TEXT NOT NULL,
    old_role        TEXT NULL,
    new_role        TEXT NULL,
    old_status      TEXT NULL,
    new_status      TEXT NULL,
    source          TEXT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX ix_audit_events_org_at ON audit_events (organization_id, at);
CREATE INDEX ix_audit_events_membership ON audit_events (membership_id);
