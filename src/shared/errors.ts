/**
 * The kernel's own typed errors. The kernel serves both daemons, so it names what went wrong in
 * its own words; each daemon maps a `KernelError` onto its catalog (agent: AGENT_ERR_*, control
 * plane: CP_ERR_*), where the exit code and the documented code live.
 */
export type KernelErrorCode = 'DB_CORRUPT' | 'DB_TOO_NEW' | 'DB_LOCKED' | 'CONFIG_UNREADABLE' | 'CONFIG_INVALID';

export class KernelError extends Error {
  readonly code: KernelErrorCode;
  readonly details: readonly string[];

  constructor(code: KernelErrorCode, message: string, options?: { cause?: unknown; details?: readonly string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KernelError';
    this.code = code;
    this.details = options?.details ?? [];
  }
}
