import { createServer, type AddressInfo, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { withCpuLoad, type RouterData } from '../router-data.js';
import { hostKey } from './host-keys.js';
import { badCommand, renderCommand } from './render.js';

export interface SshFaults {
  /** Every password is wrong. */
  rejectLogin?: boolean;
  /** Console log lines (`HH:MM:SS echo: ...`) inside every output. */
  logEcho?: boolean;
  /** These exact commands never finish ('*' for all). */
  noReplyTo?: readonly string[];
  /** This command's output stops halfway and the TCP connection is reset. */
  resetMidOutput?: string;
  /** Outputs are written in pieces of this many bytes. */
  chunkBytes?: number;
}

export interface SshSimulatorOptions {
  port?: number;
  /** Loopback only; tests of one engineer's block bind e.g. 127.0.64.1. */
  host?: `127.${number}.${number}.${number}` | '::1';
  data: RouterData;
  faults?: SshFaults;
  /** RouterOS 6.x: only diffie-hellman-group14-sha1 and an ssh-dss host key. */
  legacyAlgorithms?: boolean;
  /** A private host key (OpenSSH or PEM); the default is the process's shared one. */
  hostKey?: string;
}

export interface RunningSshSimulator {
  port: number;
  host: string;
  connections(): number;
  /** User names that authenticated (with their `+ct` suffix) and commands run. */
  logins: string[];
  commands: string[];
  /** Every authentication request, accepted or not, with its method: a refused host key must leave this empty. */
  authAttempts: { username: string; method: string; password?: string }[];
  setFaults(faults: SshFaults): void;
  /** The router's CPU load from now on (percent), as `/system resource print` shows it; tests raise it mid-scan. */
  setCpuLoad(percent: number): void;
  /** Presents another host key from the next connection on, as a re-keyed router (or an impostor) would. */
  setHostKey(privateKey: string): void;
  stop(): Promise<void>;
}

const logLine = '17:20:06 echo: system,error,critical login failure for user admin from 198.51.100.7 via ssh';

/** Inserts a console log line after the first line of an output, as a live router interleaves them. */
function withLogEcho(text: string): string {
  const at = text.indexOf('\n');
  return at < 0 ? `${logLine}\n${text}` : `${text.slice(0, at + 1)}${logLine}\n${text.slice(at + 1)}`;
}

/**
 * A RouterOS SSH server on loopback (ssh2's Server): password login for `<user>+<options>`,
 * exec channels answered with captured or rendered console output in CRLF, and faults.
 */
export async function startSshSimulator(options: SshSimulatorOptions): Promise<RunningSshSimulator> {
  let faults: SshFaults = options.faults ?? {};
  let data = options.data;
  const sockets = new Set<Socket>();
  const logins: string[] = [];
  const commands: string[] = [];
  const authAttempts: RunningSshSimulator['authAttempts'] = [];
  const legacy = options.legacyAlgorithms === true;
  const makeServer = (key: string) =>
    new ssh2.Server(
      {
        hostKeys: [key],
        ...(legacy ? { algorithms: { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-dss'] } } : {}),
      },
      (client) => {
        client.on('error', () => undefined);
        client.on('authentication', (ctx) => {
          authAttempts.push({ username: ctx.username, method: ctx.method, ...(ctx.method === 'password' ? { password: ctx.password } : {}) });
          // RouterOS reads console options after '+': the account is the part before it.
          const account = ctx.username.split('+')[0];
          if (ctx.method === 'password' && !faults.rejectLogin && account === options.data.user && ctx.password === options.data.password) {
            logins.push(ctx.username);
            ctx.accept();
          } else {
            ctx.reject(['password']);
          }
        });
        client.on('ready', () => {
          client.on('session', (accept) => {
            const session = accept();
            session.on('exec', (acceptExec, _reject, info) => {
              const stream = acceptExec();
              commands.push(info.command);
              if (faults.noReplyTo?.includes(info.command) || faults.noReplyTo?.includes('*')) return;
              const rendered = renderCommand(info.command, data);
              let text = rendered ?? badCommand(info.command);
              if (faults.logEcho) text = withLogEcho(text);
              const bytes = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
              if (faults.resetMidOutput === info.command) {
                stream.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
                setTimeout(() => [...sockets].forEach((socket) => socket.resetAndDestroy()), 20);
                return;
              }
              const size = faults.chunkBytes ?? bytes.length;
              for (let at = 0; at < bytes.length; at += size) stream.write(bytes.subarray(at, at + size));
              stream.exit(0);
              stream.end();
            });
          });
        });
      },
    );
  let server = makeServer(options.hostKey ?? hostKey(legacy ? 'dsa' : 'ed25519'));
  // Our own listener hands each socket to ssh2 (its public injectSocket), so the simulator can count and reset them.
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.injectSocket(socket);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (listener.address() as AddressInfo).port;
  return {
    port,
    host,
    connections: () => [...sockets].filter((socket) => !socket.destroyed).length,
    logins,
    commands,
    authAttempts,
    setFaults(next) {
      faults = next;
    },
    setCpuLoad(percent) {
      data = withCpuLoad(options.data, percent);
    },
    setHostKey(privateKey) {
      server = makeServer(privateKey);
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
