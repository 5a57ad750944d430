-- Downloads a channel started and has not confirmed yet (the DPO broker stops listing a transfer under
-- recipientStatus=Initialized once its download started), kept here so that a process that dies between
-- download and confirm takes them up again after a restart.
CREATE TABLE pending_downloads (
    channel     TEXT NOT NULL,
    org         TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    since       TEXT NOT NULL,
    PRIMARY KEY (channel, org, transfer_id)
);
