-- Alerts computed while the day's quality gate had failed rest on unverified data: they
-- are still raised (risk computation does not stop), but say so (issue 9).
alter table ops.alerts add column if not exists data_verified boolean;
comment on column ops.alerts.data_verified is
    'Did the quality gate of the newest loaded batch date pass when this alert was last synced? false = resting on unverified data.';
