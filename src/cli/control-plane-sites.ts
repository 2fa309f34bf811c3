/** `cve-control-plane sites add|list|rotate-token`: sites and their agent tokens (only the hash is stored). */
import { isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ControlPlaneError } from '../control-plane/errors.js';
import { generateSiteToken, hashSiteToken } from '../control-plane/hub/tokens.js';
import type { StoreSettings } from '../control-plane/config/load.js';
import { openStore } from '../control-plane/store/open.js';
import type { ControlPlaneStore } from '../control-plane/store/types.js';
import { renderTable } from './table.js';

export interface SitesContext {
  stateDir: string;
  /** The configured engine (SQLite in stateDir when the command was given only --data-dir). */
  store: StoreSettings;
  logger: Logger;
  json: boolean;
  out: (text: string) => void;
  /** How agents dial this control plane (ws:// or wss://), when the config says. */
  agentUrl?: string;
}

/**
 * The agents' URL from the config: public_url with ws(s) for http(s), else the listen address
 * (a wildcard one named by this host's name). The agent adds the hub's path itself.
 */
export function agentUrlOf(config: { public_url: string | undefined; listen: { host: string; port: number } }): string {
  if (config.public_url !== undefined) return config.public_url.replace(/^http/, 'ws');
  const { host, port } = config.listen;
  const name = ['0.0.0.0', '::', ''].includes(host) ? hostname() : isIPv6(host) ? `[${host}]` : host;
  return `ws://${name}:${port}`;
}

/** The lines `sites add` prints for the agent's config.yaml (its control_plane section, src/agent/config/schema.ts). */
export function agentConfigLines(site: { id: string; name: string; token: string }, url: string | undefined): string {
  return [
    `# cve-agent config for site ${JSON.stringify(site.name)}: paste into /etc/cve-agent/config.yaml (the token is shown once)`,
    `site_id: ${site.id}`,
    'control_plane:',
    url === undefined ? '  url: wss://CONTROL-PLANE-HOST   # not known here: give sites add --url, or run it with --config' : `  url: ${url}`,
    `  token: ${site.token}`,
    '',
  ].join('\n');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export async function withStore<T>(ctx: SitesContext, fn: (store: ControlPlaneStore) => Promise<T>): Promise<T> {
  const store = await openStore(ctx.store, ctx.stateDir, ctx.logger);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function addSite(ctx: SitesContext, options: { org: string; name: string; id?: string; url?: string }): Promise<void> {
  const problems: string[] = [];
  if (options.org.trim() === '') problems.push('--org: expected the organization id your JWTs carry in their org claim');
  if (options.name.trim() === '') problems.push('--name: expected a name');
  if (options.id !== undefined && !UUID.test(options.id)) problems.push(`--id: expected a UUID, got ${JSON.stringify(options.id)}`);
  if (options.url !== undefined && !(URL.canParse(options.url) && /^wss?:$/.test(new URL(options.url).protocol)))
    problems.push(`--url: expected a ws:// or wss:// URL, got ${JSON.stringify(options.url)}`);
  if (problems.length > 0) throw new ControlPlaneError('CP_ERR_SITE_INVALID', problems.join('; '));
  const token = generateSiteToken();
  const id = (options.id ?? crypto.randomUUID()).toLowerCase();
  const at = new Date().toISOString();
  await withStore(ctx, async (store) => {
    if (await store.sites.get(id)) throw new ControlPlaneError('CP_ERR_SITE_INVALID', `a site with id ${id} exists already`);
    await store.sites.create({
      id,
      org_id: options.org.trim(),
      name: options.name.trim(),
      created_at: at,
      token_rotated_at: at,
      last_seen_at: null,
      agent_version: null,
      token_hash: hashSiteToken(token),
    });
  });
  const url = options.url ?? ctx.agentUrl;
  if (ctx.json) ctx.out(`${JSON.stringify({ id, org_id: options.org.trim(), name: options.name.trim(), token, url: url ?? null })}\n`);
  else ctx.out(agentConfigLines({ id, name: options.name.trim(), token }, url));
}

export async function listSites(ctx: SitesContext, options: { org?: string }): Promise<void> {
  const sites = await withStore(ctx, (store) => store.sites.list(options.org));
  if (ctx.json) return ctx.out(`${JSON.stringify(sites)}\n`);
  ctx.out(
    renderTable(
      ['ID', 'ORG', 'NAME', 'LAST SEEN', 'AGENT'],
      sites.map((s) => [s.id, s.org_id, s.name, s.last_seen_at ?? 'never', s.agent_version ?? '-']),
    ),
  );
}

export async function rotateToken(ctx: SitesContext, id: string): Promise<void> {
  const token = generateSiteToken();
  const rotated = await withStore(ctx, (store) => store.sites.rotateToken(id.toLowerCase(), hashSiteToken(token), new Date().toISOString()));
  if (!rotated) throw new ControlPlaneError('CP_ERR_SITE_NOT_FOUND', `no site ${id}; cve-control-plane sites list shows the ids`);
  if (ctx.json) ctx.out(`${JSON.stringify({ id: id.toLowerCase(), token })}\n`);
  else ctx.out(`new token for site ${id.toLowerCase()} (the old one stops working at the agent's next connect): ${token}\n`);
}
