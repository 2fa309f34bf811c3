import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { openStore } from '../../../src/agent/store/database.js';
import { splitFeedFile } from '../../../src/protocol/index.js';
import { tempDir } from '../../helpers/temp.js';
import { startHubSimulator, type HubConnection } from './hub-simulator.js';
import { eventually, startServices, startSiteAgent, subnetOf } from './site.js';

const net = 33;
const subnet = subnetOf(net);

const siteId = '9f4a7b5e-6c8d-4e0f-8a1b-3c4d5e6f7081';
const scheduleId = 'a05b8c6f-7d9e-4f1a-9b2c-4d5e6f708192';
const issued = () => new Date().toISOString();
const later = () => new Date(Date.now() + 3600_000).toISOString();

const reportsOf = (connection: HubConnection, type?: string) =>
  connection.frames.filter((frame) => typeof frame.seq === 'number' && frame.type !== 'ack' && (type === undefined || frame.type === type));
const acked = (connection: HubConnection, seq: number) => connection.frames.some((frame) => frame.type === 'ack' && frame.seq === seq);

function scanCommand(type: 'scan.invoke' | 'scan.ips', seq: number, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type,
    seq,
    issued_at: issued(),
    scan_id: randomUUID(),
    sub_scan_id: randomUUID(),
    schedule_id: scheduleId,
    subnets: [subnet],
    min_cvss: 4,
    warning_threshold: 7,
    expires_at: later(),
    ...extra,
  });
}

describe('the agent applies the control plane commands', () => {
  it('streams a large outbox through a window of 8 unacknowledged rows, in order, and replays from the welcome seq', async () => {
    const stateDir = tempDir('uplink-window-');
    const logger = pino({ level: 'silent' });
    const store = openStore({ stateDir, logger, exclusive: false });
    const outbox = new OutboxRepository(store.db);
    const runId = randomUUID();
    for (let i = 0; i < 60; i += 1) outbox.append({ type: 'scan.event', at: issued(), run_id: runId, level: 'info', message: `event ${i}` });
    store.close();

    // The third connection is welcomed as if the control plane had stored up to seq 9 (its ack was lost).
    const hub = await startHubSimulator({ welcome: (index) => (index === 2 ? { resume_after_seq: 9 } : {}) });
    onTestFinished(() => hub.close());
    const agent = await startSiteAgent({ siteId, token: 'tok', url: hub.url, stateDir, net });
    await hub.waitFor('the first window', () => hub.connections[0] !== undefined && reportsOf(hub.connections[0]).length === 8);
    const first = hub.connections[0]!;
    // Several polls pass; without an ack nothing more goes out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reportsOf(first).map((frame) => frame.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    first.send(JSON.stringify({ type: 'ack', seq: 5 }));
    await hub.waitFor('the window to slide', () => reportsOf(first).length === 13);
    expect(reportsOf(first).map((frame) => frame.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // Acknowledged rows are deleted in the next flush, a few tens of ms later: exactly the five acked, none unacked.
    await eventually('the acked rows to go', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 55 || undefined);
    expect(agent.query<{ seq: number }>('SELECT min(seq) AS seq FROM outbox')[0]!.seq).toBe(6);
    first.terminate();

    // Reconnected: the hello names the last ack, the unacknowledged rows go again from 6.
    await hub.waitFor('the second window', () => hub.connections[1] !== undefined && reportsOf(hub.connections[1]).length === 8);
    const second = hub.connections[1]!;
    expect(second.frames[0]).toMatchObject({ type: 'hello', last_acked_seq: 5 });
    expect(reportsOf(second).map((frame) => frame.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    second.terminate();

    await hub.waitFor('the third connection', () => hub.connections[2] !== undefined && reportsOf(hub.connections[2]).length === 8);
    const third = hub.connections[2]!;
    expect(reportsOf(third)[0]!.seq).toBe(10);
    for (;;) {
      const top = Math.max(...reportsOf(third).map((frame) => frame.seq as number));
      third.send(JSON.stringify({ type: 'ack', seq: top }));
      if (top === 60) break;
      await hub.waitFor(`more than ${top}`, () => reportsOf(third).some((frame) => (frame.seq as number) > top));
    }
    expect(reportsOf(third).map((frame) => frame.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 10));
    await eventually('the outbox to empty', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 0 || undefined);
    expect(agent.agent.uplink!.pump.peakInFlight).toBeLessThanOrEqual(8);
  });

  it('ignores an ack beyond what was sent: no unsent row is deleted', async () => {
    const stateDir = tempDir('uplink-overack-');
    const logger = pino({ level: 'silent' });
    const store = openStore({ stateDir, logger, exclusive: false });
    const outbox = new OutboxRepository(store.db);
    const runId = randomUUID();
    for (let i = 0; i < 20; i += 1) outbox.append({ type: 'scan.event', at: issued(), run_id: runId, level: 'info', message: `event ${i}` });
    store.close();
    const hub = await startHubSimulator();
    onTestFinished(() => hub.close());
    const agent = await startSiteAgent({ siteId, token: 'tok', url: hub.url, stateDir, net });
    await hub.waitFor('the first window', () => hub.connections[0] !== undefined && reportsOf(hub.connections[0]).length === 8);
    const cp = hub.connections[0]!;
    // Taken as an ack of the eight sent: the window moves by eight, rows 9..20 stay.
    cp.send(JSON.stringify({ type: 'ack', seq: 20 }));
    await hub.waitFor('the next window', () => reportsOf(cp).length === 16);
    await eventually('the first eight rows to go', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 12 || undefined);
    expect(agent.query<{ seq: number }>('SELECT min(seq) AS seq FROM outbox')[0]!.seq).toBe(9);
    cp.send(JSON.stringify({ type: 'ack', seq: 16 }));
    await hub.waitFor('the last rows', () => reportsOf(cp).length === 20);
    expect(reportsOf(cp).map((frame) => frame.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    cp.send(JSON.stringify({ type: 'ack', seq: 20 }));
    await eventually('the outbox to empty', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 0 || undefined);
  });

  it('skips a row larger than the frame limit the control plane announced, so the stream does not stall on it', async () => {
    const stateDir = tempDir('uplink-oversize-');
    const logger = pino({ level: 'silent' });
    const store = openStore({ stateDir, logger, exclusive: false });
    const outbox = new OutboxRepository(store.db);
    const runId = randomUUID();
    const ports = Array.from({ length: 20 }, (_, i) => ({
      port: 1000 + i,
      protocol: 'tcp' as const,
      service: 'http',
      product: 'nginx',
      version: '1.13.2',
      cpe: 'cpe:2.3:a:f5:nginx:1.13.2:*:*:*:*:*:*:*',
    }));
    outbox.append({ type: 'scan.event', at: issued(), run_id: runId, level: 'info', message: 'before' });
    outbox.append({
      type: 'host',
      at: issued(),
      run_id: runId,
      ip: '127.0.33.50',
      mac: null,
      hostname: null,
      manufacturer: null,
      sources: ['sweep'],
      open_ports: ports,
      os: null,
    });
    outbox.append({ type: 'scan.event', at: issued(), run_id: runId, level: 'info', message: 'after' });
    store.close();
    const hub = await startHubSimulator({ welcome: { max_frame_bytes: 1024 }, ackReports: true });
    onTestFinished(() => hub.close());
    const agent = await startSiteAgent({ siteId, token: 'tok', url: hub.url, stateDir, net });
    await eventually('the outbox to empty', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 0 || undefined);
    expect(reportsOf(hub.connections[0]!).map((frame) => frame.seq)).toEqual([1, 3]);
    expect(hub.connections).toHaveLength(1);
    expect(agent.messages()).toContain('outbox row larger than the control plane accepts; skipped');
  });

  it('applies schedules, marks and scans in seq order, refuses an out-of-scope IP before any packet (a failed run), stops and expires scans', async () => {
    const hub = await startHubSimulator({ ackReports: true });
    onTestFinished(() => hub.close());
    const { routerPort } = await startServices(net);
    const agent = await startSiteAgent({ siteId, token: 'tok', url: hub.url, routerPort, net });
    await hub.waitFor('the hello', () => hub.connections[0]?.frames[0]?.type === 'hello');
    const cp = hub.connections[0]!;
    const schedule = {
      id: scheduleId,
      description: 'pushed',
      day_of_week: 1,
      time_of_day: '03:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      ignore_offline_sites: false,
      notification_group: 'ops',
      sites: [{ id: siteId, subnet }],
      anchor_at: '2026-11-02T00:00:00.000Z',
      updated_at: issued(),
    };
    const mark = {
      id: randomUUID(),
      mac_address: '00:0C:29:11:22:33',
      cve_id: 'CVE-2023-38408',
      status: 'mitigated',
      justification: 'agent forwarding off',
      expiration_date: null,
      product: null,
      version: null,
      created_at: issued(),
    };
    const outside = scanCommand('scan.ips', 3, { ips: ['127.0.35.9'] });
    const single = scanCommand('scan.ips', 4, { ips: [`127.0.${net}.2`] });
    const expired = scanCommand('scan.invoke', 5, { expires_at: '2020-01-01T00:00:00.000Z' });
    const invoked = JSON.parse(scanCommand('scan.invoke', 6)) as { scan_id: string };
    cp.send(JSON.stringify({ type: 'schedule.upsert', seq: 1, issued_at: issued(), schedule }));
    cp.send(JSON.stringify({ type: 'vuln.mark', seq: 2, issued_at: issued(), mark }));
    cp.send(outside);
    cp.send(single);
    cp.send(expired);
    cp.send(JSON.stringify(invoked));
    cp.send(JSON.stringify({ type: 'scan.stop', seq: 7, issued_at: issued(), schedule_id: scheduleId, scan_id: invoked.scan_id }));
    await hub.waitFor('every command acknowledged', () => acked(cp, 7));
    expect(cp.frames.filter((frame) => frame.type === 'ack').map((frame) => frame.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    // The schedule is armed from the control plane's anchor: the first Monday 03:00 UTC two weeks on from it.
    const [armed] = agent.query<{ origin: string; anchor_at: string; next_scan_at: string }>(
      'SELECT origin, anchor_at, next_scan_at FROM schedules WHERE id = ?',
      scheduleId,
    );
    expect(armed).toMatchObject({ origin: 'control_plane', anchor_at: '2026-11-02T00:00:00.000Z' });
    expect((Date.parse(armed!.next_scan_at) - Date.parse('2026-11-02T03:00:00.000Z')) % (14 * 86_400_000)).toBe(0);
    expect(agent.query('SELECT mac, cve_id, status, origin FROM vuln_marks')).toEqual([
      { mac: '00:0C:29:11:22:33', cve_id: 'CVE-2023-38408', status: 'mitigated', origin: 'control_plane' },
    ]);

    // The out-of-scope address is refused with an error naming the command, and no scan exists for it.
    expect(cp.frames.filter((frame) => frame.type === 'error')).toMatchObject([{ code: 'rejected', seq: 3, fatal: false }]);
    expect(String(cp.frames.find((frame) => frame.type === 'error')?.message)).toContain('127.0.35.9');
    const scans = () =>
      agent.query<{ kind: string; status: string; error: string | null; target_ips: string | null; stop_requested_at: string | null; cp_scan_id: string }>(
        'SELECT kind, status, error, target_ips, stop_requested_at, cp_scan_id FROM scans ORDER BY created_at, rowid',
      );
    await eventually('the scans to end', () => scans().every((scan) => !['queued', 'scanning'].includes(scan.status)) || undefined, 30_000);
    const [refused, ips, old, stopped] = scans();
    expect(scans()).toHaveLength(4);
    // The refused one is recorded as a failed run of the IPs asked for, so the control plane closes that sub-scan.
    expect(refused).toMatchObject({ kind: 'single_ip', status: 'failed', target_ips: JSON.stringify(['127.0.35.9']) });
    expect(refused!.error).toContain('127.0.35.9');
    const outsideSubScan = (JSON.parse(outside) as { sub_scan_id: string }).sub_scan_id;
    await hub.waitFor('the refused run reported', () => reportsOf(cp, 'scan.status').some((frame) => frame.sub_scan_id === outsideSubScan));
    expect(reportsOf(cp, 'scan.status').filter((frame) => frame.sub_scan_id === outsideSubScan)).toMatchObject([
      { status: 'queued', target_ips: ['127.0.35.9'] },
    ]);
    expect(ips).toMatchObject({ kind: 'single_ip', status: 'completed', target_ips: JSON.stringify([`127.0.${net}.2`]) });
    expect(old).toMatchObject({ kind: 'invoke', status: 'failed' });
    expect(old!.error).toContain('expired');
    expect(stopped).toMatchObject({ kind: 'invoke', cp_scan_id: invoked.scan_id });
    expect(stopped!.stop_requested_at).not.toBeNull();
    expect(['partial', 'failed']).toContain(stopped!.status);
    // The reports carry the control plane's ids and reach it.
    await hub.waitFor('four scan.finished reports', () => reportsOf(cp, 'scan.finished').length === 4);
    const asReported = { completed: 'completed', partial: 'stopped', failed: 'failed' } as Record<string, string>;
    expect(
      reportsOf(cp, 'scan.finished')
        .map((frame) => frame.status)
        .sort(),
    ).toEqual(
      scans()
        .map((scan) => asReported[scan.status])
        .sort(),
    );
    expect(reportsOf(cp, 'scan.status').map((frame) => frame.scan_id)).toContain(invoked.scan_id);
    const findings = reportsOf(cp, 'finding').map((frame) => (frame.cve as { id: string }).id);
    expect(findings).toContain('CVE-2023-38408');

    // Deleted by the control plane: disarmed.
    cp.send(JSON.stringify({ type: 'schedule.delete', seq: 8, issued_at: issued(), schedule_id: scheduleId }));
    await hub.waitFor('the delete acknowledged', () => acked(cp, 8));
    expect(agent.query('SELECT id FROM schedules WHERE id = ?', scheduleId)).toEqual([]);
  });

  it('puts a feed file pushed in chunks back together, checks its hash and imports it into cve.db', async () => {
    const hub = await startHubSimulator();
    onTestFinished(() => hub.close());
    const agent = await startSiteAgent({ siteId, token: 'tok', url: hub.url, net });
    await hub.waitFor('the hello', () => hub.connections[0]?.frames[0]?.type === 'hello');
    const cp = hub.connections[0]!;
    const bytes = readFileSync(path.join(import.meta.dirname, '../../fixtures/nvd/records/CVE-2013-2028.json'));
    // Named like the spool's own header file: a pushed name must not collide with it.
    const chunks = splitFeedFile('transfer.json', bytes, 2048);
    expect(chunks.length).toBeGreaterThan(2);
    // A transfer whose hash does not match is refused and imports nothing.
    const forged = splitFeedFile('forged.json', Buffer.concat([bytes, Buffer.from(' ')]), 4096).map((chunk) => ({ ...chunk, sha256: chunks[0]!.sha256 }));
    let seq = 0;
    for (const chunk of forged) cp.send(JSON.stringify({ type: 'feed.file', seq: ++seq, issued_at: issued(), ...chunk }));
    // Out of order and one chunk twice: the spool takes them as they come.
    for (const chunk of [...chunks].reverse().concat(chunks[0]!)) cp.send(JSON.stringify({ type: 'feed.file', seq: ++seq, issued_at: issued(), ...chunk }));
    await hub.waitFor('every chunk acknowledged', () => acked(cp, seq));
    expect(cp.frames.filter((frame) => frame.type === 'error')).toMatchObject([{ code: 'rejected', seq: forged.length }]);
    const cveDb = new Database(path.join(agent.stateDir, 'cve.db'), { readonly: true });
    onTestFinished(() => {
      cveDb.close();
    });
    // The agent's first start loaded the starter feed (78 records, nginx's CVE-2013-2028 among them);
    // the pushed file is imported over it: the last import names the transfer, the forged one left no trace.
    expect(cveDb.prepare('SELECT id FROM cves').pluck().all()).toContain('CVE-2013-2028');
    const lastImport = JSON.parse(cveDb.prepare("SELECT value FROM feed_meta WHERE key = 'last_import'").pluck().get() as string) as {
      source: string;
      unchanged: number;
    };
    expect(lastImport.source).toContain('transfer.json');
    expect(lastImport.source).not.toContain('forged');
  });
});
