-- Every audit row is written with each of its indexes updated in the same transaction as the change it records (ingest
-- included), and two of them repeat a longer one's leading columns: (organization_id, at) is the prefix of
-- ix_audit_events_org_at_id and (membership_id) of ix_audit_events_membership_at (both from 0010), which serve every
-- query the shorter ones did. Dropping them saves two index inserts per audited change.
DROP INDEX IF EXISTS ix_audit_events_org_at;
DROP INDEX IF EXISTS ix_audit_events_membership;
