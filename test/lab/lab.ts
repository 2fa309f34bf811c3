import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labServices, type LabServiceSpec } from './daemons.js';
import { debianRevision, installedVersion, stopDaemon, upstreamVersion, type Daemon } from './processes.js';

/**
 * The loopback lab: real Debian daemons, each bound to its own 127.x address (never 0.0.0.0)
 * with its own config in a temp directory. Scanner tests, benchmarks and demos start it, scan
 * it and compare what the scanner says with what dpkg says is installed.
 */
export interface LabService {
  name: string;
  package: string;
  address: string;
  ports: { port: number; protocol: 'tcp' | 'udp' }[];
  expect: { service: string; product: string };
  /** dpkg's version, e.g. "1:9.2p1-2+deb12u10". */
  debianVersion: string;
  /** The upstream version a banner shows, e.g. "9.2p1". */
  upstreamVersion: string;
  debianRevision: string;
  pid: number;
}

export interface Lab {
  /** e.g. "127.0.10" */
  prefix: string;
  subnet: string;
  services: LabService[];
  /** Packages of the lab that are not installed: their services were left out. */
  missing: string[];
  dir: string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface LabOptions {
  /** The first three octets of the lab's /24, e.g. "127.0.10". */
  prefix: string;
  /** Names from labServices; default all. */
  only?: readonly string[];
  readyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tcpAnswers(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitReady(spec: LabServiceSpec, daemon: Daemon, address: string, deadline: number): Promise<void> {
  const tcp = spec.ports.filter((entry) => entry.protocol === 'tcp');
  for (;;) {
    if (daemon.child.exitCode !== null) throw new Error(`${spec.name} exited with ${daemon.child.exitCode}:\n${daemon.output()}`);
    const ready = spec.readyLine
      ? spec.readyLine.test(daemon.output())
      : (await Promise.all(tcp.map((entry) => tcpAnswers(address, entry.port)))).every(Boolean);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`${spec.name} on ${address} not ready in time:\n${daemon.output()}`);
    await sleep(50);
  }
}

export async function startLab(options: LabOptions): Promise<Lab> {
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(options.prefix)) throw new Error(`the lab lives on loopback only: ${options.prefix} is not 127.x.y`);
  const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-lab-'));
  const daemons: Daemon[] = [];
  const services: LabService[] = [];
  const missing: string[] = [];
  const stop = async () => {
    await Promise.all(daemons.splice(0).map((daemon) => stopDaemon(daemon)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
    const wanted = labServices.filter((spec) => !options.only || options.only.includes(spec.name));
    await Promise.all(
      wanted.map(async (spec) => {
        const version = installedVersion(spec.package);
        if (!version) {
          missing.push(spec.package);
          return;
        }
        const address = `${options.prefix}.${spec.host}`;
        const serviceDir = path.join(dir, spec.name);
        mkdirSync(serviceDir);
        const daemon = spec.start(address, serviceDir);
        daemons.push(daemon);
        await waitReady(spec, daemon, address, deadline);
        services.push({
          name: spec.name,
          package: spec.package,
          address,
          ports: spec.ports,
          expect: spec.expect,
          debianVersion: version,
          upstreamVersion: upstreamVersion(version),
          debianRevision: debianRevision(version),
          pid: daemon.child.pid ?? -1,
        });
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  services.sort((a, b) => a.address.localeCompare(b.address, undefined, { numeric: true }));
  return { prefix: options.prefix, subnet: `${options.prefix}.0/24`, services, missing, dir, stop, [Symbol.asyncDispose]: stop };
}
