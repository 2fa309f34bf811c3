import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { identifyHttp, parseHttpResponse } from '../../../src/agent/scan/probes/http.js';
import { parseRedisInfo } from '../../../src/agent/scan/probes/redis.js';
import { parseSslResponse } from '../../../src/agent/scan/probes/postgres.js';
import { parseVersionBindReply, versionBindQuery } from '../../../src/agent/scan/probes/dns.js';
import { confidence } from '../../../src/agent/scan/service.js';

const response = (head: string, body = '') => Buffer.from(`${head.replace(/\n/g, '\r\n')}\r\n\r\n${body}`, 'latin1');

describe('HTTP identification', () => {
  it.each([
    ['Server: nginx/1.22.1', { product: 'nginx', version: '1.22.1' }],
    ['Server: lighttpd/1.4.69', { product: 'lighttpd', version: '1.4.69' }],
    ['Server: Apache/2.4.57 (Debian)', { product: 'Apache httpd', version: '2.4.57', distro: 'Debian' }],
    ['Server: Microsoft-IIS/10.0', { product: 'Microsoft IIS', version: '10.0' }],
  ])('%s', (header, expected) => {
    const parsed = parseHttpResponse(
      response(`HTTP/1.1 200 OK\nDate: Mon, 01 Dec 2025 10:00:00 GMT\n${header}\nContent-Type: text/html`, '<html><head><title>Welcome</title></head></html>'),
    );
    expect(parsed).not.toBeNull();
    const found = identifyHttp(parsed!);
    expect(found).toMatchObject({ service: 'http', confidence: confidence.exactBanner, evidence: header, ...expected });
    expect(found.facts).toMatchObject({ title: 'Welcome', status: '200' });
  });

  it('reports a Server header without version as the product only, and X-Powered-By as a fact', () => {
    const found = identifyHttp(parseHttpResponse(response('HTTP/1.1 200 OK\nServer: nginx\nX-Powered-By: PHP/8.2.7'))!);
    expect(found).toMatchObject({ product: 'nginx', confidence: confidence.productOnly, facts: { 'x-powered-by': 'PHP/8.2.7' } });
    expect(found.version).toBeUndefined();
    expect(found).not.toHaveProperty('cpe');
  });

  it('reads the RouterOS version from a WebFig login page', () => {
    const page =
      '<html><head><title>RouterOS router configuration page</title></head><body><div class="top"><h1>RouterOS v6.49.7 (stable)</h1></div><a href="/webfig/">Webfig</a></body></html>';
    const found = identifyHttp(parseHttpResponse(response('HTTP/1.0 200 OK\nContent-Type: text/html', page))!);
    expect(found).toMatchObject({
      product: 'MikroTik RouterOS',
      version: '6.49.7',
      confidence: confidence.versionFromContent,
      evidence: 'RouterOS v6.49.7 (stable)',
    });
  });

  it('keeps TLS certificate facts next to the HTTP ones', () => {
    const found = identifyHttp(parseHttpResponse(response('HTTP/1.1 200 OK\nServer: nginx/1.22.1'))!, {
      subject: 'CN=router.lan',
      validTo: '2026-01-01T00:00:00.000Z',
    });
    expect(found.service).toBe('https');
    expect(found.facts).toMatchObject({ 'tls-subject': 'CN=router.lan', 'tls-valid-to': '2026-01-01T00:00:00.000Z' });
  });

  it('rejects what is not an HTTP response', () => {
    expect(parseHttpResponse(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'))).toBeNull();
    expect(parseHttpResponse(Buffer.from([0x16, 0x03, 0x01, 0x00]))).toBeNull();
  });
});

describe('Redis INFO server', () => {
  it('reads redis_version from the bulk reply', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\nos:Linux 6.1.0 x86_64\r\n';
    expect(parseRedisInfo(`$${info.length}\r\n${info}\r\n`)).toMatchObject({
      product: 'Redis',
      version: '7.0.15',
      evidence: 'redis_version:7.0.15',
    });
  });

  it('names Redis without a version when it wants a password or is in protected mode', () => {
    for (const reply of [
      '-NOAUTH Authentication required.\r\n',
      '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.\r\n',
    ]) {
      const found = parseRedisInfo(reply);
      expect(found).toMatchObject({ product: 'Redis', confidence: confidence.productOnly });
      expect(found?.version).toBeUndefined();
    }
    expect(parseRedisInfo('-ERR unknown command\r\n')).toBeNull();
  });
});

describe('PostgreSQL', () => {
  it('is recognised by its one-byte SSLRequest answer and never given a version', () => {
    for (const byte of ['S', 'N']) {
      const found = parseSslResponse(Buffer.from(byte));
      expect(found).toMatchObject({ product: 'PostgreSQL', facts: { version: 'not disclosed before authentication' } });
      expect(found?.version).toBeUndefined();
    }
    expect(parseSslResponse(Buffer.from('NO'))).toBeNull();
    expect(parseSslResponse(Buffer.from('E'))).toBeNull();
  });
});

describe('DNS version.bind', () => {
  const answer = (id: number, text: string | null, rcode = 'NOERROR') =>
    dnsPacket.encode({
      type: 'response',
      id,
      flags: rcode === 'REFUSED' ? 5 : 0,
      questions: [{ type: 'TXT', class: 'CH', name: 'version.bind' }],
      answers: text === null ? [] : [{ type: 'TXT', class: 'CH', name: 'version.bind', ttl: 0, data: [Buffer.from(text)] }],
    });

  it('asks the CHAOS TXT question', () => {
    const query = dnsPacket.decode(versionBindQuery(77));
    expect(query.questions).toEqual([{ type: 'TXT', class: 'CH', name: 'version.bind' }]);
  });

  it.each([
    ['dnsmasq-2.90', { product: 'dnsmasq', version: '2.90' }],
    ['9.18.28-1~deb12u2-Debian', { product: 'ISC BIND', version: '9.18.28', distro: '1~deb12u2-Debian' }],
    // The supported-preview and patch builds stay in the version (S1 was dropped, P1 taken for a distribution); cve/ splits them.
    ['9.16.8-S1', { product: 'ISC BIND', version: '9.16.8-S1' }],
    ['9.12.4-P1', { product: 'ISC BIND', version: '9.12.4-P1' }],
    ['unbound 1.17.1', { product: 'Unbound', version: '1.17.1' }],
  ])('%s', (text, expected) => {
    expect(parseVersionBindReply(answer(9, text), 9)).toMatchObject({ service: 'dns', confidence: confidence.exactBanner, evidence: text, ...expected });
  });

  it('keeps a refusing server as DNS without product, and ignores replies to other ids or garbage', () => {
    const refused = parseVersionBindReply(answer(4, null, 'REFUSED'), 4);
    expect(refused).toMatchObject({ service: 'dns', confidence: confidence.protocolOnly });
    expect(refused?.product).toBeUndefined();
    expect(parseVersionBindReply(answer(4, 'dnsmasq-2.90'), 5)).toBeNull();
    expect(parseVersionBindReply(Buffer.from('garbage!'), 5)).toBeNull();
  });
});
