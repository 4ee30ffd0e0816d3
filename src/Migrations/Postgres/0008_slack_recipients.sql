-- What a cached Slack lookup belongs to: the email it was made with (a changed email is looked up again) and, when
-- Slack knew nobody by it (or only a deactivated user or a bot), since when, so "not on Slack" is not asked again on
-- every notice (Slack:NotFoundCacheMinutes).
ALTER TABLE users ADD COLUMN slack_lookup_email text NULL;
ALTER TABLE users ADD COLUMN slack_not_found_at timestamptz NULL;
