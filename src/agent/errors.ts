import { CatalogError, type CatalogEntry } from '../shared/catalog-error.js';

/**
 * The agent's catalog of typed errors. Every error the agent raises on purpose carries a
 * stable `code` that is documented in docs/errors.md (a test keeps the two in step) and an
 * exit code for the CLI.
 */
export const agentErrors = {
  AGENT_ERR_CONFIG_INVALID: { exitCode: 78, message: 'the configuration is invalid' },
  AGENT_ERR_CONFIG_UNREADABLE: { exitCode: 78, message: 'the configuration file cannot be read' },
  AGENT_ERR_DB_CORRUPT: { exitCode: 76, message: 'the database file is corrupt' },
  AGENT_ERR_DB_LOCKED: { exitCode: 75, message: 'the database is in use by another agent' },
  AGENT_ERR_DB_TOO_NEW: { exitCode: 76, message: 'the database was written by a newer agent' },
  AGENT_ERR_STATE_OWNER: { exitCode: 77, message: "root cannot act as the state directory's owner" },
  AGENT_ERR_SCHEDULE_INVALID: { exitCode: 65, message: 'the schedule breaks a rule' },
  AGENT_ERR_SCHEDULE_NOT_FOUND: { exitCode: 66, message: 'no schedule has that id' },
  AGENT_ERR_SCHEDULE_READ_ONLY: { exitCode: 65, message: 'the schedule comes from the config file' },
  AGENT_ERR_SCAN_TARGET_INVALID: { exitCode: 65, message: 'the scan targets are invalid' },
  AGENT_ERR_SCAN_PORTS_INVALID: { exitCode: 65, message: 'the port list is invalid' },
  AGENT_ERR_SCAN_OUT_OF_SCOPE: { exitCode: 77, message: 'the address is outside the scan scope' },
  AGENT_ERR_SCAN_NOT_FOUND: { exitCode: 66, message: 'no scan has that id' },
  AGENT_ERR_MARK_INVALID: { exitCode: 65, message: 'the mark is invalid' },
  AGENT_ERR_ROUTER_NOT_CONFIGURED: { exitCode: 78, message: 'no router is configured' },
  AGENT_ERR_ROUTER_AUTH: { exitCode: 77, message: 'login failed' },
  AGENT_ERR_ROUTER_UNREACHABLE: { exitCode: 69, message: 'the router cannot be reached' },
  AGENT_ERR_ROUTER_TLS: { exitCode: 69, message: 'the TLS handshake with the router failed' },
  AGENT_ERR_ROUTER_IDENTITY: { exitCode: 77, message: 'the router presented a key or certificate other than the pinned one' },
  AGENT_ERR_ROUTER_TIMEOUT: { exitCode: 75, message: 'the router did not answer in time' },
  AGENT_ERR_ROUTER_TRAP: { exitCode: 69, message: 'the router refused the command' },
  AGENT_ERR_ROUTER_PROTOCOL: { exitCode: 76, message: 'the router sent a malformed reply' },
  AGENT_ERR_ROUTER_CLOSED: { exitCode: 75, message: 'the router closed the session' },
  AGENT_ERR_ROUTER_OFFLINE: { exitCode: 69, message: 'the router is offline' },
  AGENT_ERR_ROUTER_CLIENT_UNPATCHED: { exitCode: 70, message: 'the RouterOS API library is not patched' },
} as const satisfies Record<string, CatalogEntry>;

export type AgentErrorCode = keyof typeof agentErrors;

export class AgentError extends CatalogError<AgentErrorCode> {
  constructor(code: AgentErrorCode, message?: string, options?: { cause?: unknown; details?: readonly string[] }) {
    super(agentErrors, code, message, options);
    this.name = 'AgentError';
  }
}
