-- A user may have one pending join request at a time, across all organizations.
CREATE UNIQUE INDEX ux_memberships_one_pending_join_request ON memberships (user_id)
    WHERE status = 'pending' AND source = 'join_request' AND deleted_at IS NULL AND user_id IS NOT NULL;
