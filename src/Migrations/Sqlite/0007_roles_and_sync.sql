-- WorkOS roles, keyed by slug as the events carry them. Environment roles apply to every organization;
-- organization roles (custom slugs start "org-") to one. Deleted roles are kept as tombstones.
CREATE TABLE global_roles (
    id                   TEXT NOT NULL PRIMARY KEY,
    workos_slug          TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NULL,
    permissions          TEXT NOT NULL DEFAULT '[]',
    workos_updated_at    TEXT NULL,
    workos_last_event_id TEXT NULL,
    deleted_at           TEXT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_global_roles_slug ON global_roles (workos_slug);

CREATE TABLE organization_roles (
    id                   TEXT NOT NULL PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    workos_slug          TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NULL,
    permissions          TEXT NOT NULL DEFAULT '[]',
    workos_updated_at    TEXT NULL,
    workos_last_event_id TEXT NULL,
    deleted_at           TEXT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_organization_roles_slug ON organization_roles (organization_id, workos_slug);

-- Which roles a WorkOS user holds in an organization, as WorkOS last said (role_urn role:global:<id> | role:organization:<id>).
CREATE TABLE organization_role_assignments (
    id                   TEXT NOT NULL PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    workos_user_id       TEXT NOT NULL,
    user_id              TEXT NULL REFERENCES users (id),
    role_urn             TEXT NOT NULL CHECK (role_urn LIKE 'role:global:%' OR role_urn LIKE 'role:organization:%'),
    workos_updated_at    TEXT NULL,
    workos_last_event_id TEXT NULL,
    deleted_at           TEXT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_role_assignments_live ON organization_role_assignments (organization_id, workos_user_id, role_urn)
    WHERE deleted_at IS NULL;
CREATE INDEX ix_role_assignments_user ON organization_role_assignments (workos_user_id);

-- Events API cursors: the last event applied, per WorkOS organization ('' = environment-wide role events) ...
CREATE TABLE workos_organization_syncs (
    workos_organization_id TEXT NOT NULL PRIMARY KEY,
    cursor                 TEXT NULL,
    last_synced_at         TEXT NULL,
    last_error             TEXT NULL,
    updated_at             TEXT NOT NULL
);

-- ... and per WorkOS user (the updated_at of the user object last applied).
CREATE TABLE workos_user_syncs (
    workos_user_id TEXT NOT NULL PRIMARY KEY,
    cursor         TEXT NULL,
    last_synced_at TEXT NULL,
    last_error     TEXT NULL,
    updated_at     TEXT NOT NULL
);
