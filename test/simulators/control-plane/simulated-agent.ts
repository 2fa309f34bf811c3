/**
 * A site agent as the control plane sees it, written only against the protocol schemas: hello,
 * an in-memory outbox that keeps every report until acknowledged and replays the rest in order
 * after a reconnect, a bounded window of unacknowledged frames, commands acknowledged by seq.
 * The real uplink is checked against the same scenarios later; this is its stand-in.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  AGENT_PATH,
  decodeDownFrame,
  isCommand,
  PROTOCOL_VERSION,
  type Command,
  type DownFrame,
  type Report,
  type Welcome,
} from '../../../src/protocol/index.js';

type Unsequenced<R> = R extends Report ? Omit<R, 'seq'> : never;
export type ReportInput = Unsequenced<Report>;

export interface SimulatedAgentOptions {
  url: string;
  token: string;
  siteId: string;
  streamId?: string;
  agentVersion?: string;
  /** Unacknowledged frames in flight at most (the uplink's backpressure window). */
  window?: number;
  /** Apply and acknowledge commands as they come (default true). */
  ackCommands?: boolean;
  /** The last command seq the agent's database says it applied (an agent restarting). */
  lastCommandSeq?: number;
  /**
   * An agent restarting after a kill: its outbox as the database kept it, which may still hold
   * reports the control plane had acknowledged when the ack was lost with the process.
   */
  outbox?: readonly Report[];
}

export interface Closed {
  code: number;
  reason: string;
}

export class SimulatedAgent {
  readonly siteId: string;
  readonly streamId: string;
  readonly token: string;
  #options: SimulatedAgentOptions;
  /** The outbox: seq -> report, oldest first. */
  readonly outbox = new Map<number, Report>();
  readonly commands: Command[] = [];
  readonly frames: DownFrame[] = [];
  readonly closes: Closed[] = [];
  readonly rejections: { seq: number | null; message: string }[] = [];
  #nextSeq = 1;
  #lastAcked = 0;
  #lastCommand = 0;
  /** Highest seq written to the current connection. */
  #sentUpTo = 0;
  #ws: WebSocket | undefined;
  #welcome: Welcome | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(options: SimulatedAgentOptions) {
    this.#options = options;
    this.siteId = options.siteId;
    this.token = options.token;
    this.#lastCommand = options.lastCommandSeq ?? 0;
    for (const report of options.outbox ?? []) this.outbox.set(report.seq, report);
    this.#nextSeq = Math.max(0, ...this.outbox.keys()) + 1;
    this.streamId = options.streamId ?? randomUUID();
  }

  get lastAcked(): number {
    return this.#lastAcked;
  }

  get lastCommandSeq(): number {
    return this.#lastCommand;
  }

  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN && this.#welcome !== undefined;
  }

  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  /** Points the agent at another address (a control plane restarted elsewhere). */
  retarget(url: string): void {
    this.#options = { ...this.#options, url };
  }

  /** Opens the connection and sends hello; resolves on welcome (or rejects on close/refusal). */
  connect(extraHeaders: Record<string, string> = {}): Promise<Welcome> {
    this.#welcome = undefined;
    this.#sentUpTo = 0;
    const ws = new WebSocket(`${this.#options.url.replace(/^http/, 'ws')}${AGENT_PATH}`, {
      headers: { authorization: `Bearer ${this.#options.token}`, ...extraHeaders },
      perMessageDeflate: false,
    });
    this.#ws = ws;
    ws.on('message', (data) => this.#onFrame(data.toString()));
    ws.on('close', (code, reason) => {
      this.closes.push({ code, reason: reason.toString() });
      this.#wake();
    });
    ws.on('error', () => this.#wake());
    ws.on('open', () => {
      this.sendRaw(
        JSON.stringify({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          agent_version: this.#options.agentVersion ?? 'sim-1.0',
          site_id: this.siteId,
          stream_id: this.streamId,
          last_acked_seq: this.#lastAcked,
          last_command_seq: this.#lastCommand,
        }),
      );
    });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: HTTP ${res.statusCode}`)));
      ws.once('close', (code) => reject(new Error(`closed before welcome: ${code}`)));
      ws.once('error', reject);
      void this.waitFor(() => this.#welcome !== undefined, 10_000).then(() => resolve(this.#welcome as Welcome), reject);
    });
  }

  /** Adds a report to the outbox with the next seq and sends it if the window allows. */
  report(input: ReportInput): number {
    const seq = this.#nextSeq++;
    this.outbox.set(seq, { ...input, seq } as Report);
    this.#pump();
    return seq;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.#ws?.send(data, { binary });
  }

  /** Closes cleanly. */
  close(): Promise<void> {
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'bye');
    });
  }

  /** Drops the TCP connection with no close frame, as a cut cable or a kill -9 would. */
  drop(): void {
    this.#ws?.terminate();
  }

  /** Stops answering pings, as a hung peer would (the TCP connection stays up). */
  goSilent(): void {
    const socket = (this.#ws as unknown as { _socket?: { pause(): void } })?._socket;
    socket?.pause();
  }

  waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const test = () => {
        if (!check()) return;
        this.#waiters.delete(test);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(test);
        reject(
          new Error(`condition not met within ${timeoutMs} ms (acked ${this.#lastAcked}, outbox ${this.outbox.size}, closes ${JSON.stringify(this.closes)})`),
        );
      }, timeoutMs);
      this.#waiters.add(test);
      test();
    });
  }

  /** Resolves once every report written so far is acknowledged. */
  drained(timeoutMs?: number): Promise<void> {
    const target = this.#nextSeq - 1;
    return this.waitFor(() => this.#lastAcked >= target, timeoutMs);
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #pump(): void {
    if (!this.connected) return;
    const window = this.#options.window ?? 256;
    for (const [seq, report] of this.outbox) {
      if (seq <= this.#sentUpTo) continue;
      if (seq - this.#lastAcked > window) break;
      this.#ws?.send(JSON.stringify(report));
      this.#sentUpTo = seq;
    }
  }

  #onFrame(text: string): void {
    const decoded = decodeDownFrame(text);
    if (!decoded.ok) throw new Error(`control plane sent a bad frame: ${decoded.message}`);
    const frame = decoded.frame;
    this.frames.push(frame);
    if (frame.type === 'welcome') {
      this.#welcome = frame;
      this.#acked(frame.resume_after_seq);
    } else if (frame.type === 'ack') {
      this.#acked(frame.seq);
    } else if (frame.type === 'error') {
      this.rejections.push({ seq: frame.seq, message: `${frame.code}: ${frame.message}` });
    } else if (frame.type === 'heartbeat') {
      // liveness only
    } else if (isCommand(frame)) {
      if (frame.seq > this.#lastCommand) {
        this.commands.push(frame);
        if (this.#options.ackCommands !== false) {
          this.#lastCommand = frame.seq;
          this.sendRaw(JSON.stringify({ type: 'ack', seq: frame.seq }));
        }
      }
    }
    this.#pump();
    this.#wake();
  }

  #acked(seq: number): void {
    for (const key of this.outbox.keys()) if (key <= seq) this.outbox.delete(key);
    this.#lastAcked = Math.max(this.#lastAcked, seq);
  }

  /** Applies (acknowledges) every command received so far, for agents started with ackCommands: false. */
  ackCommandsNow(): void {
    const last = this.commands.at(-1)?.seq;
    if (last === undefined) return;
    this.#lastCommand = last;
    this.sendRaw(JSON.stringify({ type: 'ack', seq: last }));
  }
}
