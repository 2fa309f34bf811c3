/** `cve-control-plane sites add|list|rotate-token`: sites and their agent tokens (only the hash is stored). */
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

export async function addSite(ctx: SitesContext, options: { org: string; name: string; id?: string }): Promise<void> {
  const problems: string[] = [];
  if (options.org.trim() === '') problems.push('--org: expected the organization id your JWTs carry in their org claim');
  if (options.name.trim() === '') problems.push('--name: expected a name');
  if (options.id !== undefined && !UUID.test(options.id)) problems.push(`--id: expected a UUID, got ${JSON.stringify(options.id)}`);
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
  if (ctx.json) ctx.out(`${JSON.stringify({ id, org_id: options.org.trim(), name: options.name.trim(), token })}\n`);
  else ctx.out(`site ${id} added to organization ${options.org.trim()}\ntoken (shown once; put it in the agent's control_plane.token_file): ${token}\n`);
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
