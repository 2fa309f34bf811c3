/**
 * The errors the operating system and SQLite raise on a site box that a user can fix, as one
 * line naming the cause and what to do, with an exit code from src/shared/exit-codes.ts. Anything
 * else stays unexplained (the caller prints its message, never a stack).
 */
import { exitCodes, type ExitCode } from './exit-codes.js';

export interface ExplainedError {
  message: string;
  exitCode: ExitCode;
}

interface SystemErrorLike {
  code?: unknown;
  path?: unknown;
  syscall?: unknown;
  message?: unknown;
}

/** `program` names the command ("cve-agent"), `user` the service user it should run as. */
export function explainSystemError(error: unknown, program: string, user: string): ExplainedError | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, path, message } = error as SystemErrorLike;
  const where = typeof path === 'string' ? ` ${path}` : '';
  const text = typeof message === 'string' ? message : '';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return {
        message: `permission denied on${where || ' a file of the state directory'}: run as the service user (sudo -u ${user} ${program} ...) or give that user the directory (chown -R ${user}:${user})`,
        exitCode: exitCodes.noPermission,
      };
    case 'EROFS':
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
      return {
        message: `the database${where} is read-only for this user (${text || 'read-only file system'}); it was probably created by another user: run as ${user} (sudo -u ${user} ${program} ...) or chown -R ${user}:${user} the state directory`,
        exitCode: exitCodes.noPermission,
      };
    case 'SQLITE_CANTOPEN':
      return {
        message: `cannot open the database${where} (${text}): check that the state directory exists and that ${user} may write it (--data-dir to use another)`,
        exitCode: exitCodes.noPermission,
      };
    case 'ENOENT':
      return { message: `no such file or directory${where}`, exitCode: exitCodes.notFound };
    case 'ENOSPC':
    case 'SQLITE_FULL':
      return {
        message: `the disk holding${where || ' the state directory'} is full: free space and try again (nothing recorded was lost)`,
        exitCode: exitCodes.tempFail,
      };
    case 'EIO':
    case 'SQLITE_IOERR':
      return { message: `an I/O error on${where || ' the state directory'} (${text}): check the disk`, exitCode: exitCodes.tempFail };
    default:
      return undefined;
  }
}

/** The message of an error nobody explained, on one line: the first line of its message, never a stack. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/** The codes of a disk that is full or failing under a write: the daemon degrades on them, it does not die. */
export function isStorageFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth += 1) {
    const { code } = current as SystemErrorLike;
    if (
      typeof code === 'string' &&
      (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EIO' || code === 'STORAGE_FAILING' || code.startsWith('SQLITE_IOERR'))
    )
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
