/**
 * A command run as root on a host where the service user owns the state directory must not leave
 * root-owned files there (a root-owned cve.db, or its -wal/-shm, is read-only for the daemon).
 * Both CLIs call becomeStateOwner() before anything in the directory is opened: root then drops
 * to the directory's owner, with that user's groups and no capabilities (what systemd's User=
 * gives the daemon), so every file it creates belongs to the daemon and it can do nothing the
 * daemon could not. Where the switch cannot be made it refuses, naming the command to use.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

export interface StateOwner {
  user: string;
  uid: number;
  /** The user's primary group (from the account, not the directory's group, which may be root). */
  gid: number;
  stateDir: string;
}

export interface BecomeOptions {
  /** The command as typed ("cve-agent"), for the command line a refusal prints. */
  program: string;
  /** The command's arguments after the program name (default: process.argv after the script). */
  args?: readonly string[];
  /** The service user that should own the directory, named in a refusal's chown advice. */
  serviceUser: string;
  /** The CLI's catalog error for a refusal (exit 77), so each CLI documents it in its own catalog. */
  refuse: (message: string) => Error;
}

let current: StateOwner | undefined;

/** The owner this process switched to, if it did. */
export function switchedOwner(): StateOwner | undefined {
  return current;
}

/** A word the shell takes as it stands, or the word in single quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `runuser -u <user> -- <program> <args...>`: the same command as the owner, ready to paste. */
export function runAsCommand(user: string, program: string, args: readonly string[]): string {
  return ['runuser', '-u', user, '--', program, ...args].map(shellWord).join(' ');
}

/** The account of a uid through NSS (getent is in every Debian's libc-bin), or undefined without one. */
function accountOf(uid: number): { user: string; gid: number } | undefined {
  try {
    const [user, , , gid] = execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split(':');
    return user && gid && /^\d+$/.test(gid) ? { user, gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whom root must act as on this state directory: its owner when that is not root; undefined when
 * the directory does not exist yet or root owns it (a development box: nothing to protect).
 * Throws the refusal when the owner has no account to switch to.
 */
export function stateDirOwner(stateDir: string, options: Pick<BecomeOptions, 'serviceUser' | 'refuse'>): StateOwner | undefined {
  const dir = path.resolve(stateDir);
  let uid: number;
  try {
    uid = statSync(dir).uid;
  } catch {
    return undefined;
  }
  if (uid === 0) return undefined;
  const account = accountOf(uid);
  if (account === undefined)
    throw options.refuse(
      `the state directory ${dir} belongs to uid ${uid}, which has no account to run as: give it to the service user (chown -R ${options.serviceUser}:${options.serviceUser} ${shellWord(dir)})`,
    );
  return { ...account, uid, stateDir: dir };
}

/**
 * Run as the owner of the state directory when root and another user owns it; otherwise a no-op.
 * Call before opening anything in the directory (the switch cannot be undone). Returns the owner
 * switched to, or throws options.refuse(one line with the command to use) when it cannot switch.
 */
export function becomeStateOwner(stateDir: string, options: BecomeOptions): StateOwner | undefined {
  if (process.geteuid?.() !== 0) return undefined;
  const owner = stateDirOwner(stateDir, options);
  if (owner === undefined) return undefined;
  // Node has initgroups (getgrouplist through NSS, as systemd's User= does) but @types/node lacks it.
  const posix = process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };
  try {
    if (posix.initgroups === undefined || posix.setgid === undefined || posix.setuid === undefined) throw new Error('no setuid on this platform');
    // Groups first, then the gid, then the uid: once the uid is dropped the others cannot change.
    posix.initgroups(owner.user, owner.gid);
    posix.setgid(owner.gid);
    posix.setuid(owner.uid);
  } catch (error) {
    const args = options.args ?? process.argv.slice(2);
    throw options.refuse(
      `${owner.stateDir} belongs to ${owner.user} and root could not become that user here (${(error as NodeJS.ErrnoException).code ?? String(error)}): run the command as ${owner.user}: ${runAsCommand(owner.user, options.program, args)}`,
    );
  }
  current = owner;
  return owner;
}

interface ErrnoLike {
  code?: unknown;
  path?: unknown;
  cause?: unknown;
}

/**
 * After a switch, a file the command could not open outside the state directory is one given on
 * the command line (or named by the config) that the owner may not read: one line saying so, or
 * undefined for any other error.
 */
export function deniedToOwner(error: unknown): string | undefined {
  const owner = current;
  if (owner === undefined) return undefined;
  for (let at = error, depth = 0; at !== null && typeof at === 'object' && depth < 5; depth += 1) {
    const { code, path: file, cause } = at as ErrnoLike;
    if ((code === 'EACCES' || code === 'EPERM') && typeof file === 'string') {
      const inside = !path.relative(owner.stateDir, path.resolve(file)).startsWith('..');
      if (inside) return undefined; // A root-owned leftover in the state directory: the usual chown advice fits.
      return `cannot read ${file}: root runs this command as ${owner.user}, the owner of ${owner.stateDir}, and ${owner.user} may not read it (${code}); make it readable by ${owner.user} (for example copy it to /tmp with mode 0644) and run the command again`;
    }
    at = cause;
  }
  return undefined;
}
