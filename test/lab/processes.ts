import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';

/** Every child the lab started in this process, so an exit handler can still kill them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test run dies without stop(): leave no daemon behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  /** Everything the daemon printed, for a failure message. */
  output: () => string;
}

export function startDaemon(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Daemon {
  installExitHook();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < 64 * 1024) output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, child, output: () => output };
}

/** SIGTERM, then SIGKILL if it is still there after the grace period. */
export async function stopDaemon(daemon: Daemon, graceMs = 3000): Promise<void> {
  const { child } = daemon;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The installed Debian package version, e.g. "1:9.2p1-2+deb12u10", or null when not installed. */
export function installedVersion(packageName: string): string | null {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f', '${Status}\t${Version}', packageName], { encoding: 'utf8' });
    const [state, version] = status.split('\t');
    return state?.endsWith('installed') && version ? version : null;
  } catch {
    return null;
  }
}

/** "5:7.0.15-1~deb12u10" -> "7.0.15"; "5.9.3+dfsg-2" -> "5.9.3"; "1:9.2p1-2+deb12u3" -> "9.2p1". */
export function upstreamVersion(debianVersion: string): string {
  const withoutEpoch = debianVersion.replace(/^\d+:/, '');
  const dash = withoutEpoch.lastIndexOf('-');
  const upstream = dash > 0 ? withoutEpoch.slice(0, dash) : withoutEpoch;
  return upstream.split(/[+~]/)[0] ?? upstream;
}

/** "1:9.2p1-2+deb12u3" -> "2+deb12u3", the Debian revision a banner may carry. */
export function debianRevision(debianVersion: string): string {
  const dash = debianVersion.lastIndexOf('-');
  return dash > 0 ? debianVersion.slice(dash + 1) : '';
}
