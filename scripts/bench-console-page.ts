// bench:console's real page: a viewer signs in to the console in Debian's chromium (headless) and
// opens one scan's page while every scan streams. An init script times every agent event reaching
// the page's socket; a MutationObserver times each event of the open scan until it is in the DOM.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/helpers/chromium.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const EMAIL = 'bench-viewer@example.com';
const PASSWORD = 'bench-password-0123456789';

interface Target {
  url: string;
  dir: string;
  config: string;
}

// Page-side code, as text: this project's TypeScript has no DOM types. It runs in the page before
// its own scripts (over CDP, so the console's CSP does not apply to it).
const TIME_SOCKET = `
  window.benchSocketDelays = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const match = /"type":"event".*reported (\\d+)"/.exec(String(event.data));
        if (match) window.benchSocketDelays.push(Date.now() - Number(match[1]));
      });
    }
  };`;

const TIME_DOM = `(() => {
  window.benchDomDelays = [];
  const seen = new Set();
  // The body, not the list: a refetch may render the list anew.
  new MutationObserver(() => {
    const now = Date.now();
    const list = document.querySelector('[data-testid="scan-events"]');
    for (const match of ((list && list.textContent) || '').matchAll(/step (\\d+) reported (\\d+)/g)) {
      if (seen.has(match[1])) continue;
      seen.add(match[1]);
      window.benchDomDelays.push(now - Number(match[2]));
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})()`;

export async function openConsolePage(target: Target) {
  // A viewer, added with the CLI as an operator would.
  const passwordFile = path.join(target.dir, 'password');
  writeFileSync(passwordFile, PASSWORD, { mode: 0o600 });
  execFileSync(process.execPath, [
    path.join(root, 'dist/cli/cve-control-plane.js'),
    'operators',
    'add',
    '--config',
    target.config,
    '--org',
    'bench',
    '--email',
    EMAIL,
    '--name',
    'Bench viewer',
    '--role',
    'viewer',
    '--password-file',
    passwordFile,
  ]);
  const browser = await launchChromium();
  const context = await browser.newContext({ baseURL: target.url, viewport: { width: 1280, height: 800 } });
  const signedIn = await context.request.post('/console/session', { data: { email: EMAIL, password: PASSWORD } });
  if (!signedIn.ok()) throw new Error(`sign-in failed: ${signedIn.status()} ${await signedIn.text()}`);
  const scans = await context.request.get('/scans/cve?limit=1');
  const [scan] = (await scans.json()) as { id: string }[];
  if (!scan) throw new Error('no scan to open');
  const page = await context.newPage();
  await page.addInitScript({ content: TIME_SOCKET });
  await page.goto(`/#/scans/${scan.id}`);
  await page.waitForSelector('[data-testid="scan-events"]', { state: 'attached' });
  await page.evaluate(TIME_DOM);
  return {
    async results() {
      const { socket, dom } = (await page.evaluate('({ socket: window.benchSocketDelays, dom: window.benchDomDelays })')) as Record<string, number[]>;
      return { 'agent report -> page socket (every event)': socket ?? [], 'agent report -> page DOM (the open scan)': dom ?? [] };
    },
    async close() {
      await browser.close();
    },
  };
}
