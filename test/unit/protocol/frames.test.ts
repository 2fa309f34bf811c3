import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { closeCodes, decodeDownFrame, decodeUpFrame, downSchemas, FeedAssembler, splitFeedFile, upSchemas } from '../../../src/protocol/index.js';
import { finding, finished, host, scanStatus } from '../../simulators/control-plane/reports.js';

const withSeq = (report: object, seq = 1) => JSON.stringify({ ...report, seq });

describe('decoding frames', () => {
  it('accepts each report the simulated agent builds', () => {
    const runId = randomUUID();
    for (const report of [
      scanStatus({ runId }),
      host(runId, '10.0.0.1', '4C:5E:0C:00:00:01'),
      finding(runId, '10.0.0.1', '4C:5E:0C:00:00:01'),
      finished(runId, 1),
    ]) {
      const decoded = decodeUpFrame(withSeq(report));
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
    }
  });

  it('calls non-JSON, non-objects and schema failures malformed (1007), with the offending path', () => {
    expect(decodeUpFrame('{')).toMatchObject({ ok: false, code: 'malformed_frame', closeCode: closeCodes.malformed });
    expect(decodeUpFrame('"hello"')).toMatchObject({ ok: false, code: 'malformed_frame' });
    expect(decodeUpFrame('{"seq":1}')).toMatchObject({ ok: false, code: 'malformed_frame' });
    const badMac = decodeUpFrame(withSeq(host(randomUUID(), '10.0.0.1', 'aa-bb-cc-dd-ee-ff'), 7));
    expect(badMac).toMatchObject({ ok: false, code: 'malformed_frame', closeCode: 1007, seq: 7, message: expect.stringContaining('mac') });
    const extraKey = decodeUpFrame(JSON.stringify({ type: 'ack', seq: 3, sneaky: true }));
    expect(extraKey).toMatchObject({ ok: false, code: 'malformed_frame', message: expect.stringContaining('sneaky') });
    expect(decodeUpFrame(withSeq(finished(randomUUID(), 1), 0))).toMatchObject({ ok: false, code: 'malformed_frame' });
  });

  it('calls an unknown type, or a frame of the other direction, a policy violation (1008)', () => {
    expect(decodeUpFrame('{"type":"__proto__"}')).toMatchObject({ ok: false, code: 'unknown_type', closeCode: closeCodes.policy });
    expect(decodeUpFrame('{"type":"constructor"}')).toMatchObject({ ok: false, code: 'unknown_type' });
    const command = JSON.stringify({ type: 'scan.stop', seq: 1, issued_at: new Date().toISOString(), schedule_id: randomUUID(), scan_id: null });
    expect(decodeDownFrame(command).ok).toBe(true);
    expect(decodeUpFrame(command)).toMatchObject({ ok: false, code: 'unknown_type', seq: 1 });
    expect(decodeDownFrame(withSeq(finished(randomUUID(), 0)))).toMatchObject({ ok: false, code: 'unknown_type' });
  });

  it('takes the feed version an agent reports in hello and heartbeats as an optional field, bounded', () => {
    const at = new Date().toISOString();
    const hello = {
      type: 'hello',
      protocol: 1,
      agent_version: '1.0.0',
      site_id: randomUUID(),
      stream_id: randomUUID(),
      last_acked_seq: 0,
      last_command_seq: 0,
    };
    const feed = { version: 3, data_as_of: { nvd: '2026-12-01T00:00:00.000Z', kev: '2026-11-30T17:04:19.9796Z' } };
    expect(decodeUpFrame(JSON.stringify(hello)).ok).toBe(true);
    expect(decodeUpFrame(JSON.stringify({ ...hello, feed })).ok).toBe(true);
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, feed })).ok).toBe(true);
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, feed: { ...feed, version: -1 } }))).toMatchObject({ ok: false, code: 'malformed_frame' });
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`s${i}`, '2026-12-01']));
    expect(decodeUpFrame(JSON.stringify({ type: 'heartbeat', at, feed: { version: 1, data_as_of: many } }))).toMatchObject({
      ok: false,
      code: 'malformed_frame',
    });
    expect(decodeUpFrame(JSON.stringify({ ...hello, feed: { ...feed, extra: 1 } }))).toMatchObject({ ok: false, code: 'malformed_frame' });
  });

  it('ties the run of a scan.status to its scan or slot', () => {
    expect(decodeUpFrame(withSeq(scanStatus({ runId: randomUUID(), scanId: randomUUID(), subScanId: null }))).ok).toBe(false);
    expect(decodeUpFrame(withSeq(scanStatus({ runId: randomUUID(), slotAt: new Date().toISOString(), scheduleId: null }))).ok).toBe(false);
  });

  it('keeps every schema strict, so a misspelt field is an error in either direction', () => {
    for (const [type, schema] of [...Object.entries(upSchemas), ...Object.entries(downSchemas)]) {
      const result = schema.safeParse({ type, seq: 1, surprise: 1 });
      expect(result.success, type).toBe(false);
      expect(JSON.stringify(result.error?.issues), type).toContain('unrecognized_keys');
    }
  });
});

describe('feed files in chunks', () => {
  it('splits and reassembles byte for byte, ignoring replayed chunks', () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    const chunks = splitFeedFile('nvd-2025.json.gz', bytes, 4096);
    expect(chunks.map((c) => c.chunk_index)).toEqual([0, 1, 2]);
    for (const chunk of chunks)
      expect(downSchemas['feed.file'].safeParse({ ...chunk, type: 'feed.file', seq: 1, issued_at: new Date().toISOString() }).success).toBe(true);
    const assembler = new FeedAssembler();
    expect(assembler.add(chunks[1] as never)).toEqual({ state: 'incomplete', received: 1 });
    expect(assembler.add(chunks[1] as never)).toEqual({ state: 'incomplete', received: 1 });
    expect(assembler.add(chunks[0] as never)).toEqual({ state: 'incomplete', received: 2 });
    const done = assembler.add(chunks[2] as never);
    expect(done.state === 'complete' && done.bytes.equals(bytes)).toBe(true);
  });

  it('refuses a tampered chunk and a chunk of another transfer', () => {
    const chunks = splitFeedFile('feed.json', Buffer.from('x'.repeat(5000)), 2048);
    const tampered = new FeedAssembler();
    tampered.add(chunks[0] as never);
    tampered.add({ ...chunks[1], data: Buffer.from('y'.repeat(2048)).toString('base64') } as never);
    expect(tampered.add(chunks[2] as never)).toEqual({ state: 'invalid', reason: 'sha256 mismatch' });
    const mixed = new FeedAssembler();
    mixed.add(chunks[0] as never);
    expect(mixed.add({ ...(chunks[1] as object), transfer_id: randomUUID() } as never)).toMatchObject({ state: 'invalid' });
  });
});
