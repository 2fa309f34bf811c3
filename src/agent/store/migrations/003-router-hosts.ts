import type { Migration } from '../../../shared/sqlite.js';

// One row per MAC the router ever reported: when the agent first and last saw it, and what it
// looked like last time. Times are UTC ISO 8601.
export const routerHostsMigration: Migration = {
  version: 3,
  name: 'router-hosts',
  sql: `
    CREATE TABLE router_hosts (
      mac            TEXT PRIMARY KEY CHECK (length(mac) = 17),
      first_seen     TEXT NOT NULL,
      last_seen      TEXT NOT NULL,
      last_ips       TEXT NOT NULL DEFAULT '[]',
      last_hostnames TEXT NOT NULL DEFAULT '[]',
      vendor         TEXT,
      randomized_mac INTEGER NOT NULL DEFAULT 0,
      CHECK (first_seen <= last_seen)
    ) STRICT;
    CREATE INDEX router_hosts_last_seen ON router_hosts (last_seen);
  `,
};
