import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { withCpuLoad, type RouterData } from '../router-data.js';
import { answerCommand, type ApiFaults } from './commands.js';
import { encodeSentence, SentenceReader, type LengthWidth } from './wire.js';

export type { ApiFaults } from './commands.js';

/** A row by its `.id`, or by what it holds (rows of the captures have no `.id`). */
export type RowRef = string | ((row: Record<string, string>) => boolean);

export interface ApiSimulatorOptions {
  /** 0 (the default) picks a free port. The simulator only ever binds loopback. */
  port?: number;
  /** Loopback only; tests of one engineer's block bind e.g. 127.0.64.1. */
  host?: `127.${number}.${number}.${number}` | '::1' | 'localhost';
  data: RouterData;
  faults?: ApiFaults;
  /** `modern`: /login with =password= (6.43+); `legacy`: the MD5 challenge of older RouterOS. */
  login?: 'modern' | 'legacy';
  /** API-SSL: `anonymous` is RouterOS's certificate-less ADH mode; or a PEM key and certificate. */
  tls?: 'anonymous' | { key: string; cert: string };
}

export interface RunningApiSimulator {
  port: number;
  host: string;
  /** Sockets open right now: a client that leaks one shows here. */
  connections(): number;
  /** Every sentence received, in order, per connection (passwords included: tests only). */
  received: string[][];
  logins: string[];
  setFaults(faults: ApiFaults): void;
  /** The router's CPU load from now on (percent), as `/system/resource` gives it; tests raise it mid-scan. */
  setCpuLoad(percent: number): void;
  /** API-SSL with a certificate: presents another key and certificate from the next connection on. */
  setCertificate(pem: { key: string; cert: string }): void;
  /** Adds a row to a menu as the router would (a new `.id`), streaming it to every `listen` on that menu; returns its id. */
  addRow(menu: string, row: Record<string, string>): string;
  /** Changes some properties of the row with this `.id` (or the first the predicate picks), streaming the whole row to the listens. */
  setRow(menu: string, id: RowRef, patch: Record<string, string>): void;
  /** Removes the row with this `.id` (or the first the predicate picks); the listens get `=.id=<id>`, `=.dead=yes`. */
  removeRow(menu: string, id: RowRef): void;
  /** `listen` commands streaming right now (not cancelled, session open). */
  listens(): { menu: string; tag: string }[];
  /** Resets every open session (the server keeps listening): what a router reboot looks like to a client. */
  dropSessions(): void;
  stop(): Promise<void>;
}

/** "00" + md5(0x00 + password + challenge), hex: RouterOS before 6.43. */
export function legacyResponse(password: string, challengeHex: string): string {
  return `00${createHash('md5')
    .update(Buffer.concat([Buffer.from([0]), Buffer.from(password, 'latin1'), Buffer.from(challengeHex, 'hex')]))
    .digest('hex')}`;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A RouterOS API server speaking the real wire protocol on loopback, serving a RouterData and
 * misbehaving on request. One instance serves any number of sessions.
 */
export async function startApiSimulator(options: ApiSimulatorOptions): Promise<RunningApiSimulator> {
  let faults: ApiFaults = options.faults ?? {};
  let data = options.data;
  const sockets = new Set<net.Socket>();
  const received: string[][] = [];
  const logins: string[] = [];
  // Every `listen` going on, over all sessions: a table change is streamed to each one on its menu.
  const listens = new Set<Listen>();
  let nextId = 0x1000;
  const rowsOf = (menu: string): Record<string, string>[] => (options.data.menus[menu] ??= []);
  const stream = (menu: string, row: Record<string, string>) => {
    for (const listen of listens) if (listen.menu === menu) listen.send(row);
  };

  // A TLS socket cannot send a TCP reset itself: find the TCP socket under it by its peer port.
  const rawSocket = (socket: net.Socket): net.Socket => [...sockets].find((raw) => raw !== socket && raw.remotePort === socket.remotePort) ?? socket;

  const serve = (socket: net.Socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      for (const listen of listens) if (listen.socket === socket) listens.delete(listen);
    });
    const reader = new SentenceReader();
    let loggedIn = false;
    let challenge: string | undefined;
    // Writes go through one queue so that slow fault modes keep sentence order.
    let queue: Promise<void> = Promise.resolve();
    const width = (): LengthWidth => faults.minLengthWidth ?? 0;

    // After !fatal the session is over: a later write would error and, under TLS, destroy the
    // socket before the !fatal itself was flushed.
    const closed = () => socket.destroyed || socket.writableEnded;
    const writeBytes = async (bytes: Buffer) => {
      if (closed()) return;
      if (faults.splitEveryByte) {
        for (const byte of bytes) {
          if (closed()) return;
          socket.write(Buffer.from([byte]));
          await new Promise((resolve) => setImmediate(resolve));
        }
      } else if (faults.nulAlone && bytes.at(-1) === 0) {
        socket.write(bytes.subarray(0, -1));
        await delay(5);
        if (!closed()) socket.write(bytes.subarray(-1));
      } else {
        socket.write(bytes);
      }
    };
    const send = (sentences: string[][]) => {
      queue = queue.then(async () => {
        for (const words of sentences) await writeBytes(encodeSentence(words, width()));
      });
      return queue;
    };
    const sendRaw = (bytes: Buffer, then?: 'reset' | 'end') => {
      queue = queue.then(async () => {
        await writeBytes(bytes);
        if (then === 'reset') rawSocket(socket).resetAndDestroy();
        if (then === 'end') socket.end();
      });
    };

    const login = (words: string[], tag: string[]) => {
      const attrs = attributes(words);
      if (faults.silentLogin) return;
      if (options.login === 'legacy' && attrs.response === undefined) {
        challenge = randomBytes(16).toString('hex');
        void send([['!done', ...tag, `=ret=${challenge}`]]);
        return;
      }
      const ok =
        !faults.rejectLogin &&
        attrs.name === options.data.user &&
        (options.login === 'legacy'
          ? challenge !== undefined && attrs.response === legacyResponse(options.data.password, challenge)
          : attrs.password === options.data.password);
      logins.push(`${attrs.name ?? ''}:${ok ? 'ok' : 'failed'}`);
      if (ok) {
        loggedIn = true;
        void send([['!done', ...tag]]);
      } else {
        const message = options.login === 'legacy' ? 'cannot log in' : 'invalid user name or password (6)';
        void send([
          ['!trap', ...tag, `=message=${message}`],
          ['!done', ...tag],
        ]);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      let sentences: string[][];
      try {
        sentences = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const words of sentences) {
        received.push(words);
        const tagWord = words.find((word) => word.startsWith('.tag='));
        const tag = tagWord === undefined ? [] : [tagWord];
        const command = words[0] ?? '';
        if (loggedIn && command.endsWith('/listen') && options.data.menus[command.slice(0, -'/listen'.length)] !== undefined) {
          // A tagged listen: nothing now, a !re per change until /cancel names its tag.
          const menu = command.slice(0, -'/listen'.length);
          const proplist = attributes(words)['.proplist'];
          listens.add({
            menu,
            tag: tagWord?.slice('.tag='.length) ?? '',
            socket,
            send: (row) => void send([['!re', ...tag, ...listenWords(row, proplist)]]),
          });
        } else if (loggedIn && command === '/cancel' && [...listens].some((listen) => listen.socket === socket && listen.tag === attributes(words).tag)) {
          // As RouterOS does: the cancelled command ends with !trap "interrupted" and its !done, then the cancel's own !done.
          const cancelled = attributes(words).tag;
          for (const listen of listens) if (listen.socket === socket && listen.tag === cancelled) listens.delete(listen);
          void send([
            ['!trap', `.tag=${cancelled}`, '=category=2', '=message=interrupted'],
            ['!done', `.tag=${cancelled}`],
            ['!done', ...tag],
          ]);
        } else if (command === '/login') {
          login(words, tag);
        } else if (command === '/quit') {
          sendRaw(encodeSentence(['!fatal', 'session terminated on request']), 'end');
        } else if (!loggedIn) {
          void send([
            ['!trap', ...tag, '=message=not logged in'],
            ['!done', ...tag],
          ]);
        } else {
          const answer = answerCommand(command, attributes(words), tag, data, faults);
          if (answer.kind === 'silent') continue;
          if (answer.kind === 'sentences') void send(answer.sentences);
          else {
            void send(answer.before);
            sendRaw(answer.bytes, answer.then);
          }
        }
      }
    });
  };

  const server =
    options.tls === undefined
      ? net.createServer(serve)
      : options.tls === 'anonymous'
        ? tls.createServer({ ciphers: 'ADH-AES256-GCM-SHA384:@SECLEVEL=0', maxVersion: 'TLSv1.2', dhparam: 'auto' }, serve)
        : tls.createServer({ key: options.tls.key, cert: options.tls.cert }, serve);
  // A failed TLS handshake is the client's business; the simulator keeps serving.
  server.on('tlsClientError', () => undefined);
  // Counted at the TCP level, so a TLS handshake that never finishes still shows.
  server.on('connection', (raw: net.Socket) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host,
    connections: () => [...sockets].filter((socket) => !socket.destroyed).length,
    received,
    logins,
    setFaults(next) {
      faults = next;
    },
    setCpuLoad(percent) {
      data = withCpuLoad(options.data, percent);
    },
    setCertificate(pem) {
      if (!(server instanceof tls.Server) || options.tls === 'anonymous') throw new Error('setCertificate needs a simulator started with a certificate');
      server.setSecureContext({ key: pem.key, cert: pem.cert });
    },
    addRow(menu, row) {
      const id = row['.id'] ?? `*${(nextId++).toString(16).toUpperCase()}`;
      const added = { '.id': id, ...row };
      rowsOf(menu).push(added);
      stream(menu, added);
      return id;
    },
    setRow(menu, ref, patch) {
      const row = rowsOf(menu).find(matches(ref));
      if (row === undefined) throw new Error(`no row ${String(ref)} in ${menu}`);
      row['.id'] ??= `*${(nextId++).toString(16).toUpperCase()}`;
      Object.assign(row, patch);
      stream(menu, row);
    },
    removeRow(menu, ref) {
      const rows = rowsOf(menu);
      const at = rows.findIndex(matches(ref));
      if (at < 0) throw new Error(`no row ${String(ref)} in ${menu}`);
      const [removed] = rows.splice(at, 1);
      stream(menu, { '.id': removed?.['.id'] ?? '*0', '.dead': 'yes' });
    },
    listens: () => [...listens].map(({ menu, tag }) => ({ menu, tag })),
    dropSessions() {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const matches = (ref: RowRef) => (row: Record<string, string>) => (typeof ref === 'string' ? row['.id'] === ref : ref(row));

interface Listen {
  menu: string;
  tag: string;
  socket: net.Socket;
  send(row: Record<string, string>): void;
}

/** A listen's row: `.id` (and `.dead`) always, the rest as `=.proplist=` asks. */
function listenWords(row: Record<string, string>, proplist: string | undefined): string[] {
  const wanted = proplist === undefined ? undefined : new Set(proplist.split(','));
  return Object.entries(row)
    .filter(([key]) => key === '.id' || key === '.dead' || wanted === undefined || wanted.has(key))
    .map(([key, value]) => `=${key}=${value}`);
}

/** `=key=value` words as a map; the first `=` after the leading one splits key from value. */
export function attributes(words: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of words) {
    if (!word.startsWith('=')) continue;
    const at = word.indexOf('=', 1);
    if (at < 0) out[word.slice(1)] = '';
    else out[word.slice(1, at)] = word.slice(at + 1);
  }
  return out;
}
