import type { ControlPlaneMigration } from './migration.js';

// The console's people and credentials. An email signs in to one organization, so it is unique
// across the file. Sessions keep only the sha256 of their cookie; API tokens keep no secret at
// all (the JWT is shown once), only what lets an admin list and revoke them by jti. Login
// failures are rows (per email and per client address) so throttling survives a restart.
export const consoleAuthMigration: ControlPlaneMigration = {
  version: 10,
  name: 'control plane: console operators, sessions, API tokens, login failures',
  sql: `
    CREATE TABLE operators (
      id                    TEXT PRIMARY KEY,
      org_id                TEXT NOT NULL,
      email                 TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
      name                  TEXT NOT NULL,
      role                  TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      password_hash         TEXT NOT NULL,
      created_at            TEXT NOT NULL,
      updated_at            TEXT NOT NULL,
      sessions_valid_after  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX operators_by_org ON operators (org_id, created_at);

    CREATE TABLE console_sessions (
      token_hash    TEXT PRIMARY KEY,
      operator_id   TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
      csrf_token    TEXT NOT NULL,
      created_at    TEXT NOT NULL,
      last_seen_at  TEXT NOT NULL,
      expires_at    TEXT NOT NULL
    ) STRICT;
    CREATE INDEX console_sessions_by_operator ON console_sessions (operator_id);

    CREATE TABLE api_tokens (
      id          TEXT PRIMARY KEY,
      org_id      TEXT NOT NULL,
      name        TEXT NOT NULL,
      scopes      TEXT NOT NULL,
      created_by  TEXT NOT NULL,
      created_at  TEXT NOT NULL,
      expires_at  TEXT NOT NULL,
      revoked_at  TEXT
    ) STRICT;
    CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created_at);

    CREATE TABLE login_failures (
      key  TEXT NOT NULL,
      at   TEXT NOT NULL
    ) STRICT;
    CREATE INDEX login_failures_by_key ON login_failures (key, at);
  `,
  postgres: `
    CREATE TABLE operators (
      id                    TEXT PRIMARY KEY,
      org_id                TEXT NOT NULL,
      email                 TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
      name                  TEXT NOT NULL,
      role                  TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      password_hash         TEXT NOT NULL,
      created_at            TEXT NOT NULL,
      updated_at            TEXT NOT NULL,
      sessions_valid_after  TEXT NOT NULL
    );
    CREATE INDEX operators_by_org ON operators (org_id, created_at);

    CREATE TABLE console_sessions (
      token_hash    TEXT PRIMARY KEY,
      operator_id   TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
      csrf_token    TEXT NOT NULL,
      created_at    TEXT NOT NULL,
      last_seen_at  TEXT NOT NULL,
      expires_at    TEXT NOT NULL
    );
    CREATE INDEX console_sessions_by_operator ON console_sessions (operator_id);

    CREATE TABLE api_tokens (
      id          TEXT PRIMARY KEY,
      org_id      TEXT NOT NULL,
      name        TEXT NOT NULL,
      scopes      TEXT NOT NULL,
      created_by  TEXT NOT NULL,
      created_at  TEXT NOT NULL,
      expires_at  TEXT NOT NULL,
      revoked_at  TEXT
    );
    CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created_at);

    CREATE TABLE login_failures (
      id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      key  TEXT NOT NULL,
      at   TEXT NOT NULL
    );
    CREATE INDEX login_failures_by_key ON login_failures (key, at);
  `,
};
