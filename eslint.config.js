import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers, as import rules (docs/architecture.md): cli -> agent | control-plane -> protocol | cve -> shared.
 * cve/ (NVD data, matching, distro verdicts) serves both daemons and imports only the kernel.
 * The agent and the control plane never import each other; the kernel imports nothing above it.
 * Patterns are regular expressions over the import specifier as written.
 */
const layer = (name, message) => ({ regex: `(^|/)${name}/`, message });
const toAgent = layer('agent', 'the control plane, protocol and kernel never import the agent: move the shared rule to src/shared/');
const toControlPlane = layer('control-plane', 'the agent, protocol and kernel never import the control plane: move the shared rule to src/shared/');
const toCli = layer('cli', 'only the CLI imports the CLI');
const toProtocol = layer('protocol', 'the kernel imports nothing above it');
const toCve = layer('cve', 'the kernel imports nothing above it');
const cveToProtocol = layer('protocol', 'the CVE layer imports only the kernel');
const netmaskOnlyInIpv4 = { name: 'netmask', message: 'IPv4 parsing and scope live in src/shared/ipv4.ts alone' };
// Past routeros/index.ts: anything under routeros/ other than its index.
const routerosInternals = { regex: '(^|/)routeros/(?!index\\.js$).+', message: 'import the router module through routeros/index.js' };
// Past pipeline/index.ts: anything under pipeline/ other than its index (the scans module's public face).
const scansInternals = { regex: '(^|\\./|/agent/)pipeline/(?!index\\.js$).+', message: 'import the scans module through pipeline/index.js' };

const restrict = (patterns, paths = [netmaskOnlyInIpv4]) => ['error', { patterns, paths }];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cve-agent/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
        setImmediate: 'readonly',
        structuredClone: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The web console runs in the browser and imports nothing from the server but types.
    files: ['src/control-plane/console/web/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        WebSocket: 'readonly',
        Response: 'readonly',
        Event: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        Intl: 'readonly',
        navigator: 'readonly',
        Blob: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./\\.\\./', message: 'browser code imports nothing from the server (copy the type into web/types.ts)', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  { files: ['src/**/*.ts', 'scripts/**/*.ts'], rules: { 'no-restricted-imports': restrict([routerosInternals, scansInternals]) } },
  { files: ['src/shared/**/*.ts'], rules: { 'no-restricted-imports': restrict([toAgent, toControlPlane, toCli, toProtocol, toCve]) } },
  { files: ['src/shared/ipv4.ts'], rules: { 'no-restricted-imports': restrict([toAgent, toControlPlane, toCli, toProtocol, toCve], []) } },
  { files: ['src/protocol/**/*.ts'], rules: { 'no-restricted-imports': restrict([toAgent, toControlPlane, toCli]) } },
  { files: ['src/cve/**/*.ts'], rules: { 'no-restricted-imports': restrict([toAgent, toControlPlane, toCli, cveToProtocol]) } },
  { files: ['src/control-plane/**/*.ts'], rules: { 'no-restricted-imports': restrict([toAgent, toCli]) } },
  { files: ['src/agent/**/*.ts'], rules: { 'no-restricted-imports': restrict([toControlPlane, toCli, routerosInternals, scansInternals]) } },
  { files: ['src/agent/pipeline/**/*.ts'], rules: { 'no-restricted-imports': restrict([toControlPlane, toCli, routerosInternals]) } },
  { files: ['src/agent/routeros/**/*.ts'], rules: { 'no-restricted-imports': restrict([toControlPlane, toCli]) } },
  {
    files: ['src/agent/scan/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        toControlPlane,
        toCli,
        { regex: '(^|/)(pipeline|uplink|routeros)/', message: 'the scanner knows nothing of the pipeline, the uplink or the router: the runner composes them' },
      ]),
    },
  },
);
