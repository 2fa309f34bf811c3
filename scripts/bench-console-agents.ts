// Child of bench-console.ts: the simulated agents, one scan each, all in progress at once. Each
// agent says hello, reports its run's scan.status, then every tick a progress report and an event
// (whose text carries the wall-clock time it was reported, the bench's "ingest" start) and now and
// then a finding, then scan.finished. Prints one JSON line per phase; after `ready` (every scan
// exists) it waits for a line on stdin before the steps begin. Loopback only.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { finding, finished, macOf, newRunId, scanStatus } from '../test/simulators/control-plane/reports.js';
import { SimulatedAgent } from '../test/simulators/control-plane/simulated-agent.js';

interface Plan {
  url: string;
  sites: { id: string; token: string }[];
  steps: number;
  tickMs: number;
  findingEvery: number;
}

const plan = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Plan;
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const agents = plan.sites.map((site) => new SimulatedAgent({ url: plan.url, token: site.token, siteId: site.id, window: 1024 }));
for (let i = 0; i < agents.length; i += 50) await Promise.all(agents.slice(i, i + 50).map((agent) => agent.connect()));
say({ event: 'connected', agents: agents.length });

const runs = agents.map((agent, index) => {
  const runId = newRunId();
  agent.report(scanStatus({ runId, scheduleId: crypto.randomUUID(), slotAt: '2030-01-07T07:00:00.000Z', subnets: [`10.${index >> 8}.${index & 255}.0/24`] }));
  return runId;
});
await Promise.all(agents.map((agent) => agent.drained(60_000)));
say({ event: 'ready' });
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.pause();

async function run(agent: SimulatedAgent, index: number): Promise<number> {
  const runId = runs[index] as string;
  // Spread the agents over the tick, as real sites are.
  await sleep(Math.floor((plan.tickMs * index) / agents.length));
  let findings = 0;
  for (let step = 1; step <= plan.steps; step += 1) {
    const at = new Date();
    agent.report({
      type: 'scan.progress',
      at: at.toISOString(),
      run_id: runId,
      percent: (99 * step) / plan.steps,
      hosts_done: step,
      hosts_total: plan.steps + 1,
    });
    agent.report({
      type: 'scan.event',
      at: at.toISOString(),
      run_id: runId,
      level: 'info',
      message: `bench site ${index} step ${step} reported ${at.getTime()}`,
    });
    if (step % plan.findingEvery === 0) {
      const ip = `10.${index >> 8}.${index & 255}.${step % 250}`;
      agent.report(finding(runId, ip, macOf(index * 256 + (step % 250)), `CVE-2020-${20000 + step}`, 7.5));
      findings += 1;
    }
    await sleep(plan.tickMs);
  }
  agent.report(finished(runId, findings, 'completed', plan.steps));
  await agent.drained(60_000);
  return findings;
}

const started = Date.now();
const findings = await Promise.all(agents.map((agent, index) => run(agent, index)));
say({ event: 'done', seconds: (Date.now() - started) / 1000, findings: findings.reduce((a, b) => a + b, 0) });
for (const agent of agents) agent.drop();
