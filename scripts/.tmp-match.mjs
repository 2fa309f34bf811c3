import path from 'node:path';
import pino from 'pino';
const root = process.cwd();
const variants = 400, services = 1000;
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const { openCveDatabase } = await import(path.join(root, 'dist/agent/cve/cve-database.js'));
const { createCveMatcher } = await import(path.join(root, 'dist/cve/matcher.js'));
const productVersions = {
  openssh: ['5.3p1', '6.6.1p1', '7.2p2', '7.4p1', '7.9p1', '8.2p1', '8.4p1', '8.9p1', '9.2p1', '9.6p1', '9.8p1'],
  apache: ['2.2.34', '2.4.29', '2.4.41', '2.4.49', '2.4.54', '2.4.57', '2.4.62'],
  nginx: ['1.4.0', '1.12.1', '1.14.2', '1.18.0', '1.20.0', '1.22.1', '1.24.0'],
  dnsmasq: ['2.45', '2.76', '2.80', '2.85', '2.89', '2.90'],
  dropbear: ['2014.63', '2016.74', '2018.76', '2019.78', '2020.81', '2022.83'],
  proftpd: ['1.3.3c', '1.3.5', '1.3.5b', '1.3.6', '1.3.7a', '1.3.8'],
  bind: ['9.11.5', '9.16.1', '9.16.8-S1', '9.18.1', '9.18.24'],
  exim: ['4.87', '4.90', '4.92', '4.94', '4.96'],
  samba: ['3.6.25', '4.4.5', '4.13.2', '4.15.3', '4.17.12'],
  lighttpd: ['1.4.45', '1.4.53', '1.4.59', '1.4.64'],
  routeros: ['6.40.5 long-term', '6.42.1', '6.44beta20', '6.45.9', '6.48.6 long-term', '6.49.7', '7.1rc1', '7.12.1'],
};
const productNames = {
  openssh: ['openbsd', 'openssh', 'a'],
  apache: ['apache', 'http_server', 'a'],
  nginx: ['f5', 'nginx', 'a'],
  dnsmasq: ['thekelleys', 'dnsmasq', 'a'],
  dropbear: ['dropbear_ssh_project', 'dropbear_ssh', 'a'],
  proftpd: ['proftpd', 'proftpd', 'a'],
  bind: ['isc', 'bind', 'a'],
  exim: ['exim', 'exim', 'a'],
  samba: ['samba', 'samba', 'a'],
  lighttpd: ['lighttpd', 'lighttpd', 'a'],
  routeros: ['mikrotik', 'routeros', 'o'],
};

/** 1,000 detected services: the products a site runs, each as one of its 400 corpus variants, real versions, some with distro revisions. */
function detectedServices() {
  const keys = Object.keys(productVersions);
  const list = [];
  for (let i = 0; i < services; i += 1) {
    const key = keys[Math.floor(random() * keys.length)];
    const versions = productVersions[key];
    const variant = Math.floor(random() * variants);
    const version = versions[Math.floor(random() * versions.length)];
    const [vendor, product] = productNames[key];
    const name = variant === 0 ? key : `${product}_v${variant}`;
    // Variants are unknown to the product rules: name them by CPE vendor, as the scan pipeline would.
    list.push(variant === 0 ? { product: name, version: random() < 0.2 ? `${version} Debian-2+deb12u3` : version } : { product: name, vendor, version });
  }
  return list;
}


const logger = pino({ level: 'warn' });
const database = openCveDatabase({ stateDir: process.argv[2], logger });
const matcher = createCveMatcher(database.store);
const list = detectedServices();
const out = [];
let t = performance.now();
for (const service of list) out.push(matcher.matchService(service));
console.log('match s', (performance.now() - t) / 1000, out.flat().length);
if (process.argv[3]) (await import('node:fs')).writeFileSync(process.argv[3], JSON.stringify(out));
