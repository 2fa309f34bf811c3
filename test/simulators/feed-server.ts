import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { debianEntryText } from '../../src/cve/distro/debian-tracker.js';

/** Real data of ../shared/data, as the sources' upstreams publish it. */
export const sharedData = path.resolve(import.meta.dirname, '../../../shared/data');
export const realKevJson = (): Buffer => readFileSync(path.join(sharedData, 'kev/known_exploited_vulnerabilities.json'));
export const realEpssGz = (): Buffer => readFileSync(path.join(sharedData, 'epss/epss_scores-2024-01-13.csv.gz'));

export const realUctSnapshotGz = (): Buffer => readFileSync(path.join(sharedData, 'ubuntu/uct-2020-04-snapshot.subset.tar.gz'));

/**
 * The Debian tracker's `data/{CVE,DSA,DLA}/list` as its git repository serves them, made of the
 * real entries in ../shared/data/debian (each vuln-list-debian file is one list entry, line for line).
 */
export function realDebianLists(): { cve: string; dsa: string; dla: string } {
  const base = path.join(sharedData, 'debian/vuln-list-debian/tracker');
  const list = (dir: string) =>
    readdirSync(path.join(base, dir), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => debianEntryText(JSON.parse(readFileSync(path.join(base, dir, file), 'utf8'))))
      .join('');
  return { cve: list('CVE'), dsa: list('DSA'), dla: list('DLA') };
}

/** One scripted fault, used once by the next request for its path. */
export type Fault = { kind: 'status'; status: 429 | 503 | 403; retryAfter?: string } | { kind: 'drop-mid-body' } | { kind: 'malformed'; body: Buffer | string };

export interface FeedServer {
  url: string;
  /** Serve `body` at `route` (a path such as /kev.json). */
  serve(route: string, body: Buffer | string): void;
  /** Queue faults for `route`, answered one per request before the real body. */
  fault(route: string, ...faults: Fault[]): void;
  requests(route: string): number;
  close(): Promise<void>;
}

/** A fixture feed server on loopback (127.0.61.0/24, port 0): real bodies, scriptable faults. */
export async function startFeedServer(host = '127.0.61.1'): Promise<FeedServer> {
  const bodies = new Map<string, Buffer>();
  const faults = new Map<string, Fault[]>();
  const counts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const route = new URL(request.url ?? '/', 'http://feed').pathname;
    counts.set(route, (counts.get(route) ?? 0) + 1);
    const body = bodies.get(route);
    const fault = faults.get(route)?.shift();
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    if (fault?.kind === 'status') {
      response.writeHead(fault.status, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }).end();
      return;
    }
    if (fault?.kind === 'malformed') {
      response.writeHead(200).end(fault.body);
      return;
    }
    response.writeHead(200, { 'content-length': body.length });
    if (fault?.kind === 'drop-mid-body') {
      // Half the promised bytes, then the socket is cut: the client must see a failed read.
      response.write(body.subarray(0, Math.floor(body.length / 2)), () => request.socket.destroy());
      return;
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    serve: (route, body) => bodies.set(route, Buffer.isBuffer(body) ? body : Buffer.from(body)),
    fault: (route, ...added) => faults.set(route, [...(faults.get(route) ?? []), ...added]),
    requests: (route) => counts.get(route) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
