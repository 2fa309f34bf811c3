import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';
import { tempDir } from './temp.js';

// Plays systemd's side of sd_notify: a real unix datagram socket (Node has none), printing
// each datagram and its sender's pid (SO_PASSCRED, as PID 1 reads it) as a JSON line.
const listenerPy = String.raw`
import json, socket, struct, sys, time
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind('\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps({'listening': True}), flush=True)
cred = struct.calcsize('3i')
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(cred))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('3i', payload[:cred])[0]
    print(json.dumps({'data': data.decode(), 'pid': pid, 't': time.monotonic() * 1000}), flush=True)
`;

export interface Datagram {
  data: string;
  pid: number | null;
  /** Monotonic milliseconds when it arrived. */
  t: number;
}

export interface NotifyListener {
  /** What to put in NOTIFY_SOCKET. */
  address: string;
  received: Datagram[];
  waitFor(predicate: (all: Datagram[]) => boolean, timeoutMs?: number): Promise<Datagram[]>;
}

/** Starts a listener for this test; it is killed when the test finishes. `address` may start with '@' (abstract). */
export async function startNotifyListener(address?: string): Promise<NotifyListener> {
  const socketAddress = address ?? path.join(tempDir('notify-'), 'notify.sock');
  const child = spawn('python3', ['-c', listenerPy, socketAddress], { stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const received: Datagram[] = [];
  const waiters = new Set<() => void>();
  let listening: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as { listening?: boolean } & Datagram;
    if (message.listening) listening();
    else received.push(message);
    for (const wake of waiters) wake();
  });
  await ready;
  return {
    address: socketAddress,
    received,
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`sd_notify: condition not met in ${timeoutMs} ms; got ${JSON.stringify(received.map((d) => d.data))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
