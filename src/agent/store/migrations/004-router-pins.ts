import type { Migration } from '../../../shared/sqlite.js';

// The router's identity as learned on first use (or accepted with `cve-agent router trust`):
// one fingerprint per address, port and transport. SSH in OpenSSH's form (SHA256:base64),
// API-SSL certificates as SHA-256 hex pairs with colons. Times are UTC ISO 8601.
export const routerPinsMigration: Migration = {
  version: 4,
  name: 'router-pins',
  sql: `
    CREATE TABLE router_pins (
      host        TEXT NOT NULL CHECK (length(host) > 0),
      port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
      transport   TEXT NOT NULL CHECK (transport IN ('ssh', 'api-ssl')),
      fingerprint TEXT NOT NULL CHECK (length(fingerprint) > 0),
      pinned_at   TEXT NOT NULL,
      PRIMARY KEY (host, port, transport)
    ) STRICT;
  `,
};
