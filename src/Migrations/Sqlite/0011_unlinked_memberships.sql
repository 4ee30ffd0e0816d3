-- Memberships mirrored from WorkOS before their user was known locally wait here to be linked. Every sign-in asks
-- whether the caller has any (linking happens on every path where the two can meet), so that question is an index probe.
CREATE INDEX ix_memberships_unlinked ON memberships (workos_user_id) WHERE user_id IS NULL;
