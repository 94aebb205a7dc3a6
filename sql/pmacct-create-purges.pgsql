-- pmacct-ng: the purges bookkeeping table (docs/sql.md, "Purge ids"). The SQL plugins create
-- it themselves when it is missing and their user may; run this once as a privileged user
-- otherwise, and grant the plugins' user SELECT, INSERT and DELETE on it.
CREATE TABLE IF NOT EXISTS "pmacct_purges" (
    writer_id VARCHAR(255) NOT NULL,
    seq BIGINT NOT NULL,
    table_name VARCHAR(255) NOT NULL DEFAULT '',
    entries BIGINT NOT NULL DEFAULT 0,
    purged_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (writer_id, seq)
);
