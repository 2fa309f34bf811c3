#!/usr/bin/env node
// Child of bench-hub.mjs: a share of the simulated agents, lean on purpose (prebuilt JSON, no
// validation of its own frames; the control plane validates every one of them). Each agent says
// hello, acknowledges commands, and on scan.invoke streams its sub-scan with a bounded window of
// unacknowledged frames, timing every frame from send to ack. With `reconnect` in the plan (the
// cluster bench kills a node under it), a closed agent dials again, says hello with its stream and
// what it saw acknowledged, and resends what the welcome says is not stored. Loopback only.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { url, sites, findingsPerAgent, window, connectConcurrency, reconnect } = plan;
const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const latencies = [];
let connected = 0;
let finished = 0;
let firstSendAt = Infinity;
let lastAckAt = 0;
let refused = 0;

// As many CVEs as findings per agent: each finding of a run is distinct, so a count of distinct ones finds a double.
const cves = Array.from({ length: Math.max(40, findingsPerAgent) }, (_, i) => ({
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
  return frames;
}

function pump(agent) {
  while (agent.next < agent.frames.length && agent.next - agent.acked < window) {
    const now = performance.now();
    agent.sentAt[agent.next] = now;
    agent.ws.send(agent.frames[agent.next]);
    agent.next += 1;
  }
}

let open = 0;
function onFrame(agent, text) {
  const frame = JSON.parse(text);
  if (frame.type === 'welcome') {
    connected += 1;
    open += 1;
    agent.open = true;
    // Everything at or below resume_after_seq is stored; the rest goes again, in order.
    agent.acked = Math.max(agent.acked, frame.resume_after_seq);
    agent.next = agent.acked;
    agent.ready();
    if (agent.frames) pump(agent);
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
    agent.commandSeq = Math.max(agent.commandSeq, frame.seq);
    agent.ws.send(JSON.stringify({ type: 'ack', seq: frame.seq }));
    // Each scan appends its run to the outbox: seqs go on from the last run's.
    if (frame.type === 'scan.invoke' && (!agent.frames || agent.done) && !agent.runs.has(frame.scan_id)) {
      agent.runs.add(frame.scan_id);
      const base = agent.frames?.length ?? 0;
      agent.frames = [...(agent.frames ?? []), ...runFrames(agent, frame).map((run, i) => JSON.stringify({ ...run, seq: base + i + 1 }))];
      agent.sentAt = [...(agent.sentAt ?? []), ...new Array(agent.frames.length - base)];
      if (agent.done) {
        agent.done = false;
        startRun();
      }
      firstSendAt = Math.min(firstSendAt, Date.now());
      pump(agent);
    }
  }
}

function connect(site, index) {
  return new Promise((resolve) => {
    const agent = {
      site,
      index,
      streamId: randomUUID(),
      commandSeq: 0,
      runs: new Set(),
      next: 0,
      acked: 0,
      frames: undefined,
      done: false,
      open: false,
      ready: resolve,
    };
    dial(agent);
  });
}

function dial(agent) {
  const { site } = agent;
  agent.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/agent/v1`, { headers: { authorization: `Bearer ${site.token}` }, perMessageDeflate: false });
  agent.ws.on('open', () =>
    agent.ws.send(
      JSON.stringify({
        type: 'hello',
        protocol: 1,
        agent_version: 'bench',
        site_id: site.id,
        stream_id: agent.streamId,
        last_acked_seq: agent.acked,
        last_command_seq: agent.commandSeq,
      }),
    ),
  );
  agent.ws.on('message', (data) => onFrame(agent, data.toString()));
  agent.ws.on('error', () => {
    refused += 1;
    agent.ready();
  });
  agent.ws.on('close', () => {
    if (agent.open) open -= 1;
    agent.open = false;
    // A little jitter, as real agents back off: thousands at once would be a storm on the survivor.
    if (reconnect) setTimeout(() => dial(agent), 200 + Math.random() * 800);
  });
}

// How many agents are open, whenever it changes (the cluster bench times the reconnect with it).
let saidOpen = -1;
setInterval(() => {
  if (open === saidOpen) return;
  saidOpen = open;
  say({ event: 'open', n: open, at: Date.now() });
}, 100).unref();

/** A later scan: its figures are its own. */
function startRun() {
  if (finished === sites.length) {
    finished = 0;
    latencies.length = 0;
    firstSendAt = Infinity;
    lastAckAt = 0;
  }
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
