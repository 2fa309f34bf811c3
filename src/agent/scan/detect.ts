import { setMaxListeners } from 'node:events';
import { AgentError } from '../errors.js';
import type { GuardedNet } from './guarded-net.js';
import { greetingProbe } from './probes/banner.js';
import { dnsTcpProbe } from './probes/dns.js';
import { httpProbe, httpsProbe } from './probes/http.js';
import { createProbeContext, type ProbeLimits, type TcpProbe } from './probes/io.js';
import { postgresProbe } from './probes/postgres.js';
import { redisProbe } from './probes/redis.js';
import { routerOsApiProbe, routerOsApiTlsProbe } from './probes/routeros-api.js';
import { winboxProbe } from './probes/winbox.js';
import { confidence, located, type ServiceFinding } from './service.js';

const probesByPort = new Map<number, TcpProbe>();
const hint = (probe: TcpProbe, ports: number[]) => ports.forEach((port) => probesByPort.set(port, probe));
hint(greetingProbe, [21, 22, 23, 25, 110, 143, 587, 2121, 2222, 2323, 3306]);
hint(httpProbe, [80, 81, 591, 3000, 5000, 7547, 8000, 8008, 8080, 8081, 8086, 8181, 8888, 9090, 9200, 5985]);
hint(httpsProbe, [443, 444, 465, 993, 995, 4443, 5986, 8443, 9443]);
hint(dnsTcpProbe, [53]);
hint(redisProbe, [6379]);
hint(postgresProbe, [5432]);
hint(routerOsApiProbe, [8728]);
hint(routerOsApiTlsProbe, [8729]);
hint(winboxProbe, [8291]);

/** Tried in this order on a port whose hint did not fit (or that has none). */
const fallbackOrder: TcpProbe[] = [greetingProbe, httpProbe, httpsProbe, redisProbe, postgresProbe, routerOsApiProbe, dnsTcpProbe];

/** IANA names, only to label an open port nothing else identified (confidence: a port guess). */
const portNames: Record<number, string> = {
  21: 'ftp',
  22: 'ssh',
  23: 'telnet',
  25: 'smtp',
  53: 'domain',
  80: 'http',
  110: 'pop3',
  111: 'rpcbind',
  135: 'msrpc',
  139: 'netbios-ssn',
  143: 'imap',
  443: 'https',
  445: 'microsoft-ds',
  993: 'imaps',
  995: 'pop3s',
  1723: 'pptp',
  1900: 'upnp',
  2000: 'bandwidth-test',
  3306: 'mysql',
  3389: 'ms-wbt-server',
  5432: 'postgresql',
  5900: 'vnc',
  6379: 'redis',
  8080: 'http-proxy',
  8291: 'winbox',
  8728: 'routeros-api',
  8729: 'routeros-api-ssl',
};

export interface DetectOptions {
  limits: ProbeLimits;
  /** Wall time for all probes of one port together. */
  portTimeoutMs: number;
  /** Told when the port's deadline cut the probes short (the finding is then what they got so far). */
  onCut?: (reason: string) => void;
}

/**
 * Names the service on one open TCP port: the probe its port suggests first, then the others,
 * until one recognises the protocol. Whatever happens, it returns a finding by portTimeoutMs.
 */
export async function identifyTcpService(
  guardedNet: GuardedNet,
  address: string,
  port: number,
  options: DetectOptions,
  signal: AbortSignal,
): Promise<ServiceFinding> {
  const portSignal = AbortSignal.any([signal, AbortSignal.timeout(options.portTimeoutMs)]);
  setMaxListeners(0, portSignal);
  const hinted = probesByPort.get(port);
  const order = hinted ? [hinted, ...fallbackOrder.filter((probe) => probe !== hinted)] : fallbackOrder;
  const context = createProbeContext(guardedNet, address, port, options.limits, portSignal);
  let spoke: ServiceFinding | null = null;
  for (const probe of order) {
    if (portSignal.aborted) break;
    let finding: ServiceFinding | null = null;
    try {
      finding = await probe(context);
    } catch (error) {
      // A scan abort or a scope refusal goes up; the port's own deadline just ends the probes.
      if (signal.aborted || error instanceof AgentError) throw error;
    }
    if (finding && finding.service !== 'unknown') return finding;
    // A peer that spoke but matched nothing: keep what it said, stop poking it.
    if (finding) {
      spoke = finding;
      break;
    }
  }
  signal.throwIfAborted();
  if (portSignal.aborted) options.onCut?.(`probes cut at the port's ${options.portTimeoutMs} ms deadline`);
  if (spoke) return spoke;
  const name = portNames[port];
  return located(
    name
      ? { service: name, confidence: confidence.portGuess, evidence: `tcp/${port} open; no probe recognised the service, named after the port` }
      : { service: 'unknown', confidence: 0, evidence: `tcp/${port} open; no probe recognised the service` },
    port,
    'tcp',
  );
}
