#!/usr/bin/env node
// Child of bench-hub.mjs: a share of the simulated agents, lean on purpose (prebuilt JSON, no
// validation of its own frames; the control plane validates every one of them). Each agent says
// hello, acknowledges commands, and on scan.invoke streams its sub-scan with a bounded window of
// unacknowledged frames, timing every frame from send to ack. Loopback only.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { url, sites, findingsPerAgent, window, connectConcurrency } = plan;
const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const latencies = [];
let connected = 0;
let finished = 0;
let firstSendAt = Infinity;
let lastAckAt = 0;
let refused = 0;

const cves = Array.from({ length: 40 }, (_, i) => ({
  id: `CVE-2020-${String(20000 + i)}`,
  description: `Bench CVE ${i}: a flaw in a service the sweep found.`,
  published_at: '2020-06-01T00:00:00.000Z',
  vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  score: 4 + (i % 60) / 10,
  severity: 'HIGH',
  compliance_tags: [],
  references: [{ url: `https://nvd.example/${i}`, tags: ['Patch'] }],
  fixed_versions: ['6.49.8'],
  advice: null,
}));

function runFrames(agent, command) {
  const at = new Date().toISOString();
  const runId = randomUUID();
  const mac = (n) => `02:00:${[agent.index >> 8, agent.index & 255, 0, n].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
  const ip = (n) => command.subnets[0].replace(/0\/24$/, String(n + 1));
  const frames = [
    {
      type: 'scan.status',
      at,
      run_id: runId,
      status: 'scanning',
      schedule_id: command.schedule_id,
      slot_at: null,
      scan_id: command.scan_id,
      sub_scan_id: command.sub_scan_id,
      subnets: command.subnets,
      target_ips: null,
      min_cvss: command.min_cvss,
      warning_threshold: command.warning_threshold,
    },
  ];
  const hosts = 5;
  for (let h = 0; h < hosts; h += 1) {
    frames.push({
      type: 'host',
      at,
      run_id: runId,
      ip: ip(h),
      mac: mac(h),
      hostname: `h${h}`,
      manufacturer: 'Routerboard.com',
      sources: ['arp'],
      os: null,
      open_ports: [{ port: 8291, protocol: 'tcp', service: 'winbox', product: 'RouterOS', version: '6.40.5', cpe: null }],
    });
  }
  for (let f = 0; f < findingsPerAgent; f += 1) {
    const h = f % hosts;
    frames.push({
      type: 'finding',
      at,
      run_id: runId,
      ip: ip(h),
      mac: mac(h),
      port: 8291,
      protocol: 'tcp',
      service: 'winbox',
      cpe: 'cpe:2.3:o:mikrotik:routeros:6.40.5:-:*:*:*:*:*:*',
      product: 'routeros',
      version: '6.40.5',
      confidence: 'high',
      evidence: 'neighbor table',
      cve: cves[(agent.index + f) % cves.length],
    });
  }
  frames.push({ type: 'scan.finished', at, run_id: runId, status: 'completed', error: null, hosts_scanned: hosts, findings_sent: findingsPerAgent });
  return frames.map((frame, i) => JSON.stringify({ ...frame, seq: i + 1 }));
}

function pump(agent) {
  while (agent.next < agent.frames.length && agent.next - agent.acked < window) {
    const now = performance.now();
    if (agent.next === 0) firstSendAt = Math.min(firstSendAt, Date.now());
    agent.sentAt[agent.next] = now;
    agent.ws.send(agent.frames[agent.next]);
    agent.next += 1;
  }
}

function onFrame(agent, text) {
  const frame = JSON.parse(text);
  if (frame.type === 'welcome') {
    connected += 1;
    agent.ready();
  } else if (frame.type === 'ack') {
    const now = performance.now();
    for (let s = agent.acked + 1; s <= frame.seq; s += 1) latencies.push(now - agent.sentAt[s - 1]);
    agent.acked = Math.max(agent.acked, frame.seq);
    if (agent.frames && agent.acked === agent.frames.length && !agent.done) {
      agent.done = true;
      finished += 1;
      lastAckAt = Math.max(lastAckAt, Date.now());
      if (finished === sites.length) report();
    }
    if (agent.frames) pump(agent);
  } else if (frame.type === 'error') {
    say({ event: 'error', site: agent.site.id, frame });
  } else if (typeof frame.seq === 'number') {
    agent.ws.send(JSON.stringify({ type: 'ack', seq: frame.seq }));
    if (frame.type === 'scan.invoke' && !agent.frames) {
      agent.frames = runFrames(agent, frame);
      agent.sentAt = new Array(agent.frames.length);
      pump(agent);
    }
  }
}

function connect(site, index) {
  return new Promise((resolve) => {
    const agent = { site, index, next: 0, acked: 0, frames: undefined, done: false, ready: resolve };
    agent.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/agent/v1`, { headers: { authorization: `Bearer ${site.token}` }, perMessageDeflate: false });
    agent.ws.on('open', () =>
      agent.ws.send(
        JSON.stringify({
          type: 'hello',
          protocol: 1,
          agent_version: 'bench',
          site_id: site.id,
          stream_id: randomUUID(),
          last_acked_seq: 0,
          last_command_seq: 0,
        }),
      ),
    );
    agent.ws.on('message', (data) => onFrame(agent, data.toString()));
    agent.ws.on('error', () => {
      refused += 1;
      resolve();
    });
  });
}

function report() {
  latencies.sort((a, b) => a - b);
  // A sample keeps the message small; percentiles from 20k evenly spaced points are exact enough.
  const step = Math.max(1, Math.floor(latencies.length / 20000));
  say({ event: 'done', frames: latencies.length, firstSendAt, lastAckAt, sample: latencies.filter((_, i) => i % step === 0) });
}

const queue = sites.map((site, index) => [site, plan.indexBase + index]);
await Promise.all(
  Array.from({ length: connectConcurrency }, async () => {
    while (queue.length > 0) {
      const [site, index] = queue.shift();
      await connect(site, index);
    }
  }),
);
say({ event: 'connected', count: connected, refused });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
