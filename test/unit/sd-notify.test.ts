import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createSdNotifier } from '../../src/shared/sd-notify.js';
import { startNotifyListener, type Datagram, type NotifyListener as Listener } from '../helpers/notify-listener.js';
import { tempDir } from '../helpers/temp.js';

const SEND_PY = String.raw`
import socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(sys.argv[2].encode(), '\0' + addr[1:] if addr.startswith('@') else addr)
`;

interface LogLine {
  level: number;
  msg: string;
  component?: string;
  [key: string]: unknown;
}

const WARN = 40;
async function sendFromPython(address: string, text: string): Promise<void> {
  const child = spawn('python3', ['-c', SEND_PY, address, text], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(0);
}

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger('cve-agent', 'debug', {
    write(line: string) {
      lines.push(JSON.parse(line) as LogLine);
    },
  });
  return { logger, lines };
}

const warnings = (lines: LogLine[]): LogLine[] => lines.filter((l) => l.level >= WARN);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const datas = (all: Datagram[]): string[] => all.map((d) => d.data);
const hasMarker = (all: Datagram[]): boolean => all.some((d) => d.data === 'STATUS=marker');

async function socketListener(): Promise<Listener> {
  return startNotifyListener(join(tempDir(), 'notify'));
}

describe('createSdNotifier against a real datagram socket', () => {
  it('sends READY=1 with STATUS in one datagram, from this process pid', async () => {
    const listener = await socketListener();
    const { logger, lines } = captureLogger();
    const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: listener.address }, logger });
    expect(notifier.enabled).toBe(true);

    notifier.ready('watching 3 routers');

    const [msg] = await listener.waitFor((all) => all.length === 1);
    expect(msg).toEqual({ data: 'READY=1\nSTATUS=watching 3 routers', pid: process.pid, t: expect.any(Number) });
    notifier.close();
    expect(warnings(lines)).toEqual([]);
  });

  it('sends READY=1 alone, STATUS= alone, and folds newlines out of status text', async () => {
    const listener = await socketListener();
    const { logger } = captureLogger();
    const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: listener.address }, logger });

    notifier.ready();
    notifier.status('scan 2/5');
    notifier.status('router said:\nREADY=1\r\nMAINPID=1');

    const all = await listener.waitFor((r) => r.length === 3);
    expect(datas(all)).toEqual(['READY=1', 'STATUS=scan 2/5', 'STATUS=router said: READY=1 MAINPID=1']);
    notifier.close();
  });

  it('sends STOPPING=1, with STATUS in the same datagram when given', async () => {
    const listener = await socketListener();
    const { logger } = captureLogger();
    const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: listener.address }, logger });

    notifier.stopping();
    notifier.stopping('stopping: SIGTERM');

    const all = await listener.waitFor((r) => r.length === 2);
    expect(datas(all)).toEqual(['STOPPING=1', 'STOPPING=1\nSTATUS=stopping: SIGTERM']);
    notifier.close();
  });

  it('pings WATCHDOG=1 at half of WATCHDOG_USEC while isAlive() is true, and stopWatchdog() stops it', async () => {
    const listener = await socketListener();
    const { logger } = captureLogger();
    const notifier = createSdNotifier({
      env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: '200000' },
      logger,
    });
    expect(notifier.watchdogIntervalMs).toBe(100);

    // Cadence is measured where the timer runs: the listener's receive times would add the
    // scheduling jitter of a second process.
    const checkedAt: number[] = [];
    notifier.startWatchdog(() => {
      checkedAt.push(performance.now());
      return true;
    });
    await listener.waitFor((r) => r.length >= 6);
    notifier.stopWatchdog();
    notifier.status('marker');

    const all = await listener.waitFor(hasMarker);
    expect(datas(all)).toEqual([...Array<string>(checkedAt.length).fill('WATCHDOG=1'), 'STATUS=marker']);
    expect(all.every((d) => d.pid === process.pid)).toBe(true);
    const gaps = checkedAt.slice(1).map((t, i) => t - (checkedAt[i] as number));
    // Timers never fire early; a busy CI makes them late, so only the median is bounded above.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] as number;
    expect(median).toBeLessThan(185);

    await sleep(350);
    notifier.status('after');
    const later = await listener.waitFor((r) => r.some((d) => d.data === 'STATUS=after'));
    expect(datas(later.slice(all.length))).toEqual(['STATUS=after']);
    notifier.close();
  });

  it('withholds WATCHDOG=1 while isAlive() is false or throws, warns once, and resumes', async () => {
    const listener = await socketListener();
    const { logger, lines } = captureLogger();
    const notifier = createSdNotifier({
      env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: '200000' },
      logger,
    });

    let state: 'stuck' | 'throwing' | 'alive' = 'stuck';
    let checks = 0;
    notifier.startWatchdog(() => {
      checks += 1;
      if (state === 'throwing') throw new Error('scheduler gone');
      return state === 'alive';
    });
    await sleep(350);
    state = 'throwing';
    await sleep(250);
    notifier.status('marker');
    const beforeResume = await listener.waitFor(hasMarker);
    expect(datas(beforeResume)).toEqual(['STATUS=marker']);
    expect(checks).toBeGreaterThanOrEqual(3);
    const withheld = warnings(lines);
    expect(withheld).toHaveLength(1);
    expect(withheld[0]).toMatchObject({ component: 'sd-notify', watchdogIntervalMs: 100 });
    expect(withheld[0]?.msg).toMatch(/withholding WATCHDOG=1/);

    state = 'alive';
    const resumed = await listener.waitFor((r) => r.some((d) => d.data === 'WATCHDOG=1'));
    expect(datas(resumed)).toEqual(['STATUS=marker', 'WATCHDOG=1']);
    notifier.close();
  });

  it('pings only when WATCHDOG_PID is this process or unset', async () => {
    const listener = await socketListener();
    const { logger } = captureLogger();
    const env = { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: '200000' };
    const other = createSdNotifier({ env: { ...env, WATCHDOG_PID: String(process.pid + 1) }, logger });
    const mine = createSdNotifier({ env: { ...env, WATCHDOG_PID: String(process.pid) }, logger });
    expect(other.watchdogIntervalMs).toBeNull();
    expect(mine.watchdogIntervalMs).toBe(100);

    other.startWatchdog(() => true);
    await sleep(250);
    other.status('marker');
    expect(datas(await listener.waitFor(hasMarker))).toEqual(['STATUS=marker']);

    mine.startWatchdog(() => true);
    const all = await listener.waitFor((r) => r.length === 2);
    expect(datas(all)).toEqual(['STATUS=marker', 'WATCHDOG=1']);
    other.close();
    mine.close();
  });

  it('sends nothing after close()', async () => {
    const listener = await socketListener();
    const { logger, lines } = captureLogger();
    const closed = createSdNotifier({ env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: '200000' }, logger });
    const probe = createSdNotifier({ env: { NOTIFY_SOCKET: listener.address }, logger });

    closed.close();
    expect(closed.enabled).toBe(false);
    closed.ready('late');
    closed.startWatchdog(() => true);
    closed.stopping();
    closed.close();
    probe.status('marker');

    expect(datas(await listener.waitFor(hasMarker))).toEqual(['STATUS=marker']);
    expect(warnings(lines)).toEqual([]);
    probe.close();
  });
});

describe('createSdNotifier when there is nothing to notify', () => {
  it('is a silent no-op without NOTIFY_SOCKET', () => {
    const { logger, lines } = captureLogger();
    const notifier = createSdNotifier({ env: { WATCHDOG_USEC: '200000' }, logger });

    expect(notifier.enabled).toBe(false);
    expect(notifier.watchdogIntervalMs).toBeNull();
    notifier.ready('x');
    notifier.status('x');
    notifier.startWatchdog(() => true);
    notifier.stopWatchdog();
    notifier.stopping('x');
    notifier.close();
    expect(lines).toEqual([]);
  });

  it('does not throw when NOTIFY_SOCKET does not exist, and warns once with the errno', () => {
    const { logger, lines } = captureLogger();
    const missing = join(tempDir(), 'no-such-socket');
    const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: missing }, logger });

    expect(() => {
      notifier.ready('up');
      notifier.status('busy');
      notifier.stopping();
    }).not.toThrow();
    notifier.close();

    const warned = warnings(lines);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ component: 'sd-notify', socket: missing, message: 'READY=1', err: 'send ENOENT' });
    expect(lines.filter((l) => l.msg === 'sd_notify send failed again')).toHaveLength(2);
  });

  it('disables itself, warning once, for an abstract socket that unix-dgram cannot address', async () => {
    const name = `@edge-cve-test-${process.pid}-${randomBytes(4).toString('hex')}`;
    const listener = await startNotifyListener(name);
    const { logger, lines } = captureLogger();
    const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: name, WATCHDOG_USEC: '200000' }, logger });

    expect(notifier.enabled).toBe(false);
    expect(notifier.watchdogIntervalMs).toBeNull();
    expect(() => {
      notifier.ready('up');
      notifier.startWatchdog(() => true);
      notifier.stopping();
      notifier.close();
    }).not.toThrow();
    // The probe is queued after anything ready() could have sent, so seeing it alone proves
    // the notifier sent nothing rather than that we did not wait long enough.
    await sendFromPython(name, 'probe');
    expect(datas(await listener.waitFor((r) => r.length >= 1))).toEqual(['probe']);

    const warned = warnings(lines);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ component: 'sd-notify', socket: name });
    expect(warned[0]?.msg).toMatch(/abstract socket/);
  });

  it('refuses a socket path that sockaddr_un would truncate', () => {
    const { logger, lines } = captureLogger();
    const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: `/tmp/${'x'.repeat(110)}` }, logger });

    expect(notifier.enabled).toBe(false);
    expect(() => notifier.ready()).not.toThrow();
    expect(warnings(lines).map((l) => l.msg)).toEqual(['NOTIFY_SOCKET path is longer than a sockaddr_un holds; sd_notify disabled']);
  });

  it('ignores a WATCHDOG_USEC that is not a positive integer, with one warning', async () => {
    const listener = await socketListener();
    for (const bad of ['abc', '0', '-5', '1.5e5']) {
      const { logger, lines } = captureLogger();
      const notifier = createSdNotifier({ env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: bad }, logger });
      expect(notifier.enabled).toBe(true);
      expect(notifier.watchdogIntervalMs).toBeNull();
      expect(warnings(lines)).toHaveLength(1);
      expect(warnings(lines)[0]).toMatchObject({ WATCHDOG_USEC: bad });
      notifier.close();
    }
  });
});
