/**
 * Mitigation advice (endpoint 14) in Markdown, from the CVE record the agents reported: fixed
 * versions, the agent's own advice, RouterOS upgrade and service-restriction steps where the CVE
 * is about RouterOS, and the advisories and patches among its references.
 */
import type { CveRecord } from '../../protocol/index.js';

const isRouterOs = (cve: CveRecord) => /routeros|mikrotik/i.test(cve.description) || cve.references.some((ref) => /mikrotik\.com/i.test(ref.url));

export function buildMitigation(cve: CveRecord): string {
  const lines = [`# ${cve.id}: ${cve.severity} (CVSS ${cve.score})`, '', cve.description, ''];
  lines.push('## Fix');
  if (cve.fixed_versions.length > 0) {
    lines.push(`Upgrade the affected product to one of these versions or later: ${cve.fixed_versions.map((v) => `\`${v}\``).join(', ')}.`);
  } else {
    lines.push('No fixed version is recorded for this CVE: apply the vendor advisory below, or retire or isolate the affected service.');
  }
  if (cve.advice) lines.push('', cve.advice);
  if (isRouterOs(cve)) {
    lines.push(
      '',
      '## RouterOS',
      '- Upgrade RouterOS: `/system package update set channel=long-term`, then `/system package update install` (the router reboots).',
      '- Until then, restrict management services to your management subnet: `/ip service set winbox,ssh,www,www-ssl,api,api-ssl address=<management subnet>`.',
      '- Disable the services you do not use: `/ip service disable telnet,ftp,www,api`.',
      '- Drop management traffic from the WAN in `/ip firewall filter` (input chain, in-interface-list=WAN).',
    );
  } else {
    lines.push(
      '',
      '## Until it is fixed',
      '- Restrict access to the affected service with the router firewall to the hosts that need it.',
      '- Disable the service where it is not needed.',
    );
  }
  const advisories = cve.references.filter((ref) => ref.tags.some((tag) => /patch|vendor advisory|mitigation|release notes/i.test(tag)));
  const rest = cve.references.filter((ref) => !advisories.includes(ref));
  if (cve.references.length > 0) {
    lines.push('', '## References');
    for (const ref of [...advisories, ...rest]) lines.push(`- ${ref.url}${ref.tags.length > 0 ? ` (${ref.tags.join(', ')})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
