import type { ExitCode } from './exit-codes.js';

/** One entry of an error catalog: the exit code (one of src/shared/exit-codes.ts) and the default message. */
export interface CatalogEntry {
  exitCode: ExitCode;
  message: string;
}

/**
 * An error a daemon raises on purpose: a stable `code` from its catalog (documented in docs/, a
 * test keeps them in step), the exit code the CLI ends with, and the lines of detail (a config's
 * problems) where there are several.
 */
export class CatalogError<Code extends string> extends Error {
  readonly code: Code;
  readonly exitCode: ExitCode;
  readonly details: readonly string[];

  constructor(catalog: Readonly<Record<Code, CatalogEntry>>, code: Code, message?: string, options?: { cause?: unknown; details?: readonly string[] }) {
    super(message ?? catalog[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = catalog[code].exitCode;
    this.details = options?.details ?? [];
  }
}
