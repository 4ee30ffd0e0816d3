-- WorkOS roles, keyed by slug as the events carry them. Environment roles apply to every organization;
-- organization roles (custom slugs start "org-") to one. Deleted roles are kept as tombstones.
CREATE TABLE global_roles (
    id                   uuid NOT NULL PRIMARY KEY,
    workos_slug          text NOT NULL,
    name                 text NOT NULL,
    description          text NULL,
    permissions          text NOT NULL DEFAULT '[]',
    workos_updated_at    timestamptz NULL,
    workos_last_event_id text NULL,
    deleted_at           timestamptz NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_global_roles_slug ON global_roles (workos_slug);

CREATE TABLE organization_roles (
    id                   uuid NOT NULL PRIMARY KEY,
    organization_id      uuid NOT NULL REFERENCES organizations (id),
    workos_slug          text NOT NULL,
    name                 text NOT NULL,
    description          text NULL,
    permissions          text NOT NULL DEFAULT '[]',
    workos_updated_at    timestamptz NULL,
    workos_last_event_id text NULL,
    deleted_at           timestamptz NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_organization_roles_slug ON organization_roles (organization_id, workos_slug);

-- Which roles a WorkOS user holds in an organization, as WorkOS last said (role_urn role:global:<id> | role:organization:<id>).
CREATE TABLE organization_role_assignments (
    id                   uuid NOT NULL PRIMARY KEY,
    organization_id      uuid NOT NULL REFERENCES organizations (id),
    workos_user_id       text NOT NULL,
    user_id              uuid NULL REFERENCES users (id),
    role_urn             text NOT NULL CHECK (role_urn LIKE 'role:global:%' OR role_urn LIKE 'role:organization:%'),
    workos_updated_at    timestamptz NULL,
    workos_last_event_id text NULL,
    deleted_at           timestamptz NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_role_assignments_live ON organization_role_assignments (organization_id, workos_user_id, role_urn)
    WHERE deleted_at IS NULL;
CREATE INDEX ix_role_assignments_user ON organization_role_assignments (workos_user_id);

-- Events API cursors: the last event applied, per WorkOS organization ('' = environment-wide role events) ...
CREATE TABLE workos_organization_syncs (
    workos_organization_id text NOT NULL PRIMARY KEY,
    cursor                 text NULL,
    last_synced_at         timestamptz NULL,
    last_error             text NULL,
    updated_at             timestamptz NOT NULL
);

-- ... and per WorkOS user (the updated_at of the user object last applied).
CREATE TABLE workos_user_syncs (
    workos_user_id text NOT NULL PRIMARY KEY,
    cursor         text NULL,
    last_synced_at timestamptz NULL,
    last_error     text NULL,
    updated_at     timestamptz NOT NULL
);
