-- Anonymous tracking profiles (no customer linked) are deleted some time after their last visit by
-- the cron (ANONYMOUS_RETENTION_DAYS): this index finds the oldest ones without a scan.
CREATE INDEX tracking_profiles_anonymous_last_seen ON tracking_profiles (last_seen) WHERE customer_id IS NULL;
