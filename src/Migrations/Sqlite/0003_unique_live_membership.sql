-- One live membership per (organization, user): the backstop behind every "already a member" check.
-- Tombstoned rows and rows whose user is not known locally yet are outside it.
CREATE UNIQUE INDEX ux_memberships_live ON memberships (organization_id, user_id)
    WHERE deleted_at IS NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX ux_memberships_workos_id ON memberships (workos_membership_id)
    WHERE workos_membership_id IS NOT NULL;
