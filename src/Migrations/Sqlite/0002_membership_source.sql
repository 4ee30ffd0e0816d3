-- Memberships learn where they came from. Every PENDING row the legacy schema holds was a join request
-- (owners could not add people then), so those are backfilled; rows that already say where they came from,
-- and ACTIVE rows, are left alone. SQLite cannot add a table CHECK to an existing table, so the table is
-- rebuilt once the data satisfies it.
-- The pending-source CHECK spells out `source IS NOT NULL`: `NULL IN (...)` is NULL, and a CHECK that evaluates to NULL
-- passes, so without it a pending row with no source would slip through.
ALTER TABLE memberships ADD COLUMN source TEXT NULL;

UPDATE memberships SET source = 'join_request' WHERE status = 'pending' AND source IS NULL;

CREATE TABLE memberships_rebuilt (
    id                   TEXT NOT NULL PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    user_id              TEXT NULL REFERENCES users (id),
    workos_user_id       TEXT NULL,
    workos_membership_id TEXT NULL,
    role                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'active', 'inactive')),
    source               TEXT NULL,
    seat_type            TEXT NOT NULL,
    added_by             TEXT NULL,
    workos_updated_at    TEXT NULL,
    workos_last_event_id TEXT NULL,
    deleted_at           TEXT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CONSTRAINT ck_memberships_source_known CHECK (source IS NULL OR source IN
        ('join_request', 'owner_add', 'invitation', 'webhook', 'domain', 'legacy', 'founder')),
    CONSTRAINT ck_memberships_pending_source CHECK (status <> 'pending' OR (source IS NOT NULL AND source IN ('join_request', 'owner_add')))
);

INSERT INTO memberships_rebuilt (id, organization_id, user_id, workos_user_id, workos_membership_id, role, status,
                                 source, seat_type, added_by, workos_updated_at, workos_last_event_id, deleted_at,
                                 created_at, updated_at)
SELECT id, organization_id, user_id, workos_user_id, workos_membership_id, role, status,
       source, seat_type, added_by, workos_updated_at, workos_last_event_id, deleted_at,
       created_at, updated_at
FROM memberships;

DROP TABLE memberships;
ALTER TABLE memberships_rebuilt RENAME TO memberships;

CREATE INDEX ix_memberships_org_status ON memberships (organization_id, status);
CREATE INDEX ix_memberships_user_status ON memberships (user_id, status);
