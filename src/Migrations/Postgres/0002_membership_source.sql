-- Memberships learn where they came from. Every PENDING row the legacy schema holds was a join request
-- (owners could not add people then), so those are backfilled; rows that already say where they came from,
-- and ACTIVE rows, are left alone. The constraint is added only after the data satisfies it.
-- The pending-source CHECK spells out `source IS NOT NULL`: `NULL IN (...)` is NULL, and a CHECK that evaluates to NULL
-- passes, so without it a pending row with no source would slip through.
ALTER TABLE memberships ADD COLUMN IF NOT EXISTS source text NULL;

UPDATE memberships SET source = 'join_request' WHERE status = 'pending' AND source IS NULL;

ALTER TABLE memberships ADD CONSTRAINT ck_memberships_source_known CHECK (source IS NULL OR source IN
    ('join_request', 'owner_add', 'invitation', 'webhook', 'domain', 'legacy', 'founder'));
ALTER TABLE memberships ADD CONSTRAINT ck_memberships_pending_source
    CHECK (status <> 'pending' OR (source IS NOT NULL AND source IN ('join_request', 'owner_add')));
