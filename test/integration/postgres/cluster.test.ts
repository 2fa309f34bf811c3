/**
 * Two control-plane nodes on one PostgreSQL database behind a real nginx (the operators' config
 * file), a real agent and a REST client on the balancer. One node is killed with SIGKILL while the
 * agent's scan runs: the agent moves to the other node and every finding is stored once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { generateSiteToken, hashSiteToken } from '../../../src/control-plane/hub/tokens.js';
import { openPostgresStore } from '../../../src/control-plane/store/postgres/index.js';
import { startAgentProcess } from '../../helpers/agent-process.js';
import { startNginx, startNode, type NodeProcess } from '../../helpers/cluster.js';
import { tempDir } from '../../helpers/temp.js';
import { eventually, scheduleBody, startServices, subnetOf } from '../uplink/site.js';
import { freshDatabase } from './pg-kit.js';

const HOST = '127.0.93.1';
const net = 94;
const SECRET = 'cluster-test-secret-of-at-least-thirty-two-bytes';

async function bearer(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ org: 'org-a', scope: 'cve:view cve:create cve:update cve:delete' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('cluster-test')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRET));
}

describe('two control-plane nodes behind nginx', () => {
  it('a node killed mid-scan: the agent moves to the other node, the scan completes, every finding stored once', async () => {
    const databaseUrl = await freshDatabase();
    const dir = tempDir('cluster-');
    const logger = pino({ level: 'silent' });

    // The site, as `cve-control-plane sites add` writes it.
    const store = await openPostgresStore({ url: databaseUrl, logger });
    onTestFinished(() => store.close());
    const site = { id: crypto.randomUUID(), token: generateSiteToken() };
    const at = new Date().toISOString();
    await store.sites.create({
      id: site.id,
      org_id: 'org-a',
      name: 'cluster site',
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: hashSiteToken(site.token),
    });

    const nodes: NodeProcess[] = [];
    for (const name of ['node-a', 'node-b']) {
      const node = await startNode({
        name,
        dir,
        host: HOST,
        databaseUrl,
        secret: SECRET,
        extra: ['hub: { heartbeat_interval_seconds: 2 }', "notification_groups: { security-alerts: { secret: s, webhooks: ['http://127.0.93.1:9/never'] } }"],
      });
      onTestFinished(() => node.stop());
      nodes.push(node);
    }
    const balancer = await startNginx({ dir, host: HOST, upstreams: nodes.map((node) => new URL(node.url).host) });
    onTestFinished(() => balancer.stop());
    const token = await bearer();
    const api = async (method: string, p: string, body?: unknown) => {
      const response = await fetch(`${balancer.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> };
    };
    const connectedTo = async () => {
      const counts = await Promise.all(
        nodes.map(async (node) =>
          fetch(`${node.url}/healthz`).then(
            async (response) => ((await response.json()) as { agents_connected: number }).agents_connected,
            () => 0, // a killed node holds nobody
          ),
        ),
      );
      return counts;
    };

    // The FTP service answers only after the kill: the scan is still running when its node dies.
    let openGate = () => undefined as void;
    const ftpGate = new Promise<void>((resolve) => (openGate = resolve));
    const { routerPort } = await startServices(net, { ftpGate });
    const agentDir = tempDir('cluster-agent-');
    const config = path.join(agentDir, 'config.yaml');
    writeFileSync(
      config,
      [
        `site_id: ${site.id}`,
        `subnets: [${subnetOf(net)}]`,
        'router:',
        '  host: 127.0.0.1',
        `  port: ${routerPort}`,
        '  user: edge-cve',
        '  password: router-secret',
        'scan:',
        "  ports: '2222,8080,2121'",
        '  udp: false',
        'control_plane:',
        `  url: ${balancer.url.replace(/^http/, 'ws')}`,
        `  token: ${site.token}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const agent = startAgentProcess(['run', '--config', config, '--data-dir', path.join(agentDir, 'state')]);
    await agent.waitForLog('uplink connected');
    const holding = await eventually('the agent on one node', async () => {
      const counts = await connectedTo();
      return counts.reduce((a, b) => a + b, 0) === 1 ? counts.indexOf(1) : undefined;
    });

    // Schedule and invoke through the balancer: whichever node takes a request, the command reaches the agent.
    const created = await api('POST', '/scans/cve/scheduled', scheduleBody(site.id, net));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await agent.waitForLog('command applied');
    const invoked = await api('POST', `/scans/cve/scheduled/${String(created.body.id)}/invoke`);
    expect(invoked.status).toBe(202);
    const scanId = String(invoked.body.scan_id);

    await eventually('some results stored', async () => ((await store.scans.hosts(scanId)).length > 0 ? true : undefined), 20_000);
    const victim = nodes[holding] as NodeProcess;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    expect((await api('GET', `/scans/cve/${scanId}`)).body.status).toBe('scanning');
    openGate();

    // The agent dials the balancer again and lands on the survivor.
    const survivor = holding === 0 ? 1 : 0;
    await eventually('the agent on the other node', async () => ((await connectedTo().catch(() => [0, 0]))[survivor] === 1 ? true : undefined), 25_000).catch(
      (error: unknown) => {
        throw new Error(
          `${String(error)}; agent: ${agent.logs
            .slice(-8)
            .map((l) => JSON.stringify(l))
            .join(' ')}`,
        );
      },
    );
    const status = await eventually(
      'the scan to finish',
      async () => {
        const scan = await api('GET', `/scans/cve/${scanId}`);
        return ['completed', 'partial', 'failed'].includes(String(scan.body.status)) ? String(scan.body.status) : undefined;
      },
      25_000,
    );
    expect(status).toBe('completed');

    const findings = await store.scans.findings(scanId);
    const keys = findings.map((finding) => `${finding.host.ip} ${finding.cve.id} ${finding.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(`127.0.${net}.2 CVE-2023-38408 2222`);
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    // Exactly what the agent stored: none lost across the kill, none twice.
    const local = new Database(path.join(agentDir, 'state', 'agent.db'), { readonly: true });
    try {
      const stored = local
        .prepare<[string], string>(
          `SELECT h.ip || ' ' || f.cve_id || ' ' || coalesce(f.port, 'null') FROM findings f JOIN scan_hosts h ON h.id = f.host_id JOIN scans s ON s.id = h.scan_id WHERE s.cp_scan_id = ?`,
        )
        .pluck()
        .all(scanId);
      expect([...keys].sort()).toEqual([...stored].sort());
    } finally {
      local.close();
    }
  });
});
