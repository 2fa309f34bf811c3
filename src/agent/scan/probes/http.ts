import { routerOsChannelSource, routerOsVersionSource } from '../../../shared/routeros-version.js';
import { confidence, evidenceText, located, type Identification, type ServiceFinding } from '../service.js';
import type { BoundedSocket, ProbeContext, TcpProbe, TlsFacts } from './io.js';

export interface HttpResponse {
  status: number;
  statusLine: string;
  headers: Map<string, string>;
  body: string;
}

/** Status line and headers of an HTTP/1.x response; the body as far as it was read. */
export function parseHttpResponse(raw: Buffer): HttpResponse | null {
  const text = raw.toString('latin1');
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})[^\r\n]*/.exec(text);
  if (!match) return null;
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    }
  }
  const body = headEnd < 0 ? '' : text.slice(headEnd).replace(/^\r?\n\r?\n/, '');
  return { status: Number(match[1]), statusLine: match[0], headers, body };
}

const serverProducts: { pattern: RegExp; product: string; vendor?: string }[] = [
  { pattern: /^nginx(?:\/(\d+\.\d+\.\d+))?/i, product: 'nginx', vendor: 'F5' },
  { pattern: /^lighttpd(?:\/(\d+\.\d+\.\d+))?/i, product: 'lighttpd' },
  { pattern: /^Apache(?:\/(\d+\.\d+\.\d+))?/, product: 'Apache httpd', vendor: 'Apache' },
  { pattern: /^Microsoft-IIS(?:\/(\d+\.\d+))?/, product: 'Microsoft IIS', vendor: 'Microsoft' },
];

/** MikroTik WebFig shows the RouterOS version on its login page (`RouterOS v6.49.7`). */
const webfigVersion = new RegExp(`RouterOS ${routerOsVersionSource}(?:${routerOsChannelSource})?`);

export function identifyHttp(response: HttpResponse, tlsFacts?: TlsFacts): Identification {
  const service = tlsFacts ? 'https' : 'http';
  const server = response.headers.get('server');
  const title = /<title[^>]*>([^<]{0,200})<\/title>/i.exec(response.body)?.[1]?.trim();
  const facts: Record<string, string> = { status: String(response.status) };
  if (title) facts.title = title;
  const poweredBy = response.headers.get('x-powered-by');
  if (poweredBy) facts['x-powered-by'] = poweredBy.slice(0, 200);
  if (server) facts.server = server.slice(0, 200);
  Object.assign(facts, tlsFactEntries(tlsFacts));

  const webfig = webfigVersion.exec(response.body);
  if (webfig?.[1] && (/RouterOS/i.test(title ?? '') || /webfig|mikrotik/i.test(response.body))) {
    return {
      service,
      product: 'MikroTik RouterOS',
      vendor: 'MikroTik',
      version: webfig[1],
      ...(webfig[2] ? { channel: webfig[2] } : {}),
      confidence: confidence.versionFromContent,
      evidence: evidenceText(webfig[0]),
      facts,
    };
  }
  if (server) {
    const evidence = evidenceText(`Server: ${server}`);
    for (const known of serverProducts) {
      const match = known.pattern.exec(server);
      if (!match) continue;
      const version = match[1];
      const distro = /\(([A-Za-z][\w. -]*)\)/.exec(server)?.[1];
      return version
        ? {
            service,
            product: known.product,
            ...(known.vendor ? { vendor: known.vendor } : {}),
            version,
            ...(distro ? { distro } : {}),
            confidence: confidence.exactBanner,
            evidence,
            facts,
          }
        : { service, product: known.product, ...(distro ? { distro } : {}), confidence: confidence.productOnly, evidence, facts };
    }
    const generic = /^([A-Za-z][\w.-]*)(?:\/(\d+(?:\.\d+)+))?/.exec(server);
    if (generic?.[1]) {
      return generic[2]
        ? { service, product: generic[1], version: generic[2], confidence: confidence.exactBanner, evidence, facts }
        : { service, product: generic[1], confidence: confidence.productOnly, evidence, facts };
    }
  }
  if (title && /RouterOS router configuration page/i.test(title)) {
    return {
      service,
      product: 'MikroTik RouterOS',
      vendor: 'MikroTik',
      confidence: confidence.productOnly,
      evidence: evidenceText(`<title>${title}</title>`),
      facts,
    };
  }
  return { service, confidence: confidence.protocolOnly, evidence: evidenceText(response.statusLine), facts };
}

/** TLS certificate facts as `tls-subject`, `tls-valid-to`...: reported, never used to guess a product. */
export function tlsFactEntries(tlsFacts: TlsFacts | undefined): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const [key, value] of Object.entries(tlsFacts ?? {}))
    if (typeof value === 'string') facts[`tls-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = value;
  return facts;
}

function request(context: ProbeContext): string {
  // HTTP/1.0 and Connection: close so the server ends the body; redirects are never followed
  // (a Location header may point outside the scan scope).
  return `GET / HTTP/1.0\r\nHost: ${context.address}\r\nUser-Agent: cve-agent\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
}

async function exchange(socket: BoundedSocket, context: ProbeContext, tlsFacts?: TlsFacts): Promise<ServiceFinding | null> {
  try {
    socket.write(request(context));
    // The title sits early in the page; stop at </title> or the end of the page, within the byte cap.
    const raw = await socket.read((received) => /<\/title>/i.test(received.toString('latin1')));
    const response = parseHttpResponse(raw);
    if (!response)
      return raw.length > 0 && tlsFacts
        ? located(
            { service: 'tls', confidence: confidence.protocolOnly, evidence: evidenceText(raw.subarray(0, 120)), facts: tlsFactEntries(tlsFacts) },
            context.port,
            'tcp',
          )
        : null;
    return located(identifyHttp(response, tlsFacts), context.port, 'tcp');
  } finally {
    socket.close();
  }
}

export const httpProbe: TcpProbe = async (context) => {
  const socket = await context.open();
  return socket ? exchange(socket, context) : null;
};

export const httpsProbe: TcpProbe = async (context) => {
  const secure = await context.openTls();
  return secure ? exchange(secure.socket, context, secure.facts) : null;
};
