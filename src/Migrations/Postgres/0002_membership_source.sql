-- Memberships learn where they came from. Every PENDING row the legacy schema holds was a join request
-- (owners could not add people then), so those are backfilled; rows that already say where they came from,
-- and ACTIVE rows, are left alone. The constraint is added only after the data satisfies it.
ALTER TABLE memberships ADD COLUMN IF NOT EXISTS source text NULL;

UPDATE memberships SET source = 'join_request' WHERE status = 'pending' AND source IS NULL;

ALTER TABLE memberships ADD CONSTRAINT ck_memberships_source_known CHECK (source IS NULL OR source IN
    ('join_request', 'owner_add', 'invitation', 'webhook', 'domain', 'legacy', 'founder'));
ALTER TABLE memberships ADD CONSTRAINT ck_memberships_pending_source
    CHECK (status <> 'pending' OR source IN ('join_request', 'owner_add'));
