import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A recorded NVD CVE API 2.0 on loopback: serves real records as NVD pages, with NVD's rules
 * (both lastMod dates or neither, windows of at most 120 days, startIndex/resultsPerPage paging,
 * 404 for a wrong apiKey) and faults injected on demand. Listens on 127.0.0.1 unless told another loopback address.
 */

export type Fault =
  /** 429 Too Many Requests with Retry-After. */
  | '429'
  /** 403, NVD's answer to a client over its rate limit. */
  | '403'
  | '503'
  /** 200 with the headers and half the body, then the connection is cut. */
  | 'drop'
  /** The request is accepted and never answered. */
  | 'hang'
  /** 200 with a body that is not JSON. */
  | 'garbage'
  /** 200 with JSON that is not a CVE API page. */
  | 'not-a-page';

export interface ServedRequest {
  startIndex: number;
  resultsPerPage: number;
  lastModStartDate: string | undefined;
  lastModEndDate: string | undefined;
  apiKey: string | undefined;
  status: number | 'fault';
  fault: Fault | undefined;
}

export interface NvdServer {
  url: string;
  requests: ServedRequest[];
  /** Faults for the next requests, one per request, in order (undefined = answer normally). */
  faults: (Fault | undefined)[];
  /** Records served; replace to change what NVD "has". */
  records: Record<string, unknown>[];
  /** Called as each request arrives (after it is logged). */
  onRequest?: (request: ServedRequest) => void;
  close(): Promise<void>;
}

const maxWindowMs = 120 * 24 * 3600 * 1000;

function lastModified(record: Record<string, unknown>): number {
  const text = String(record.lastModified);
  return Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`);
}

export async function startNvdServer(options: { records: Record<string, unknown>[]; apiKey?: string; host?: string }): Promise<NvdServer> {
  const host = options.host ?? '127.0.0.1';
  const hanging = new Set<http.ServerResponse>();
  const state: NvdServer = {
    url: '',
    requests: [],
    faults: [],
    records: options.records,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const params = url.searchParams;
    const apiKey = request.headers.apikey;
    const served: ServedRequest = {
      startIndex: Number(params.get('startIndex') ?? 0),
      resultsPerPage: Number(params.get('resultsPerPage') ?? 2000),
      lastModStartDate: params.get('lastModStartDate') ?? undefined,
      lastModEndDate: params.get('lastModEndDate') ?? undefined,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
      status: 200,
      fault: state.faults.shift(),
    };
    state.requests.push(served);
    state.onRequest?.(served);
    const refuse = (status: number, message: string) => {
      served.status = status;
      response.writeHead(status, { message, 'content-type': 'text/plain' }).end(message);
    };
    if (url.pathname !== '/rest/json/cves/2.0') return refuse(404, 'not found');
    if (options.apiKey !== undefined && served.apiKey !== undefined && served.apiKey !== options.apiKey) return refuse(404, 'Invalid apiKey');
    switch (served.fault) {
      case '429':
        served.status = 'fault';
        return response.writeHead(429, { 'retry-after': '1' }).end();
      case '403':
      case '503':
        served.status = 'fault';
        return response.writeHead(Number(served.fault)).end();
      case 'hang':
        served.status = 'fault';
        hanging.add(response);
        return;
      case 'garbage':
        served.status = 'fault';
        return response.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      case 'not-a-page':
        served.status = 'fault';
        return response.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"hello"}');
      default:
        break;
    }
    if ((served.lastModStartDate === undefined) !== (served.lastModEndDate === undefined))
      return refuse(404, 'both lastModStartDate and lastModEndDate are required');
    let selected = state.records;
    if (served.lastModStartDate !== undefined && served.lastModEndDate !== undefined) {
      const start = Date.parse(served.lastModStartDate);
      const end = Date.parse(served.lastModEndDate);
      if (Number.isNaN(start) || Number.isNaN(end)) return refuse(404, 'invalid date');
      if (end - start > maxWindowMs) return refuse(404, 'The lastMod date range must not exceed 120 days');
      selected = selected.filter((record) => lastModified(record) >= start && lastModified(record) <= end);
    }
    if (served.resultsPerPage > 2000 || served.resultsPerPage < 1) return refuse(404, 'resultsPerPage out of range');
    const slice = selected.slice(served.startIndex, served.startIndex + served.resultsPerPage);
    const body = JSON.stringify({
      resultsPerPage: slice.length,
      startIndex: served.startIndex,
      totalResults: selected.length,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: new Date().toISOString().replace('Z', ''),
      vulnerabilities: slice.map((cve) => ({ cve })),
    });
    if (served.fault === 'drop') {
      served.status = 'fault';
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.write(body.slice(0, Math.floor(body.length / 2)), () => response.socket?.destroy());
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });

  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  state.url = `http://${host}:${port}/rest/json/cves/2.0`;
  return state;
}
