/**
 * RouterOS simulators for tests, benchmarks and demos. Both listen on loopback only.
 *
 *   const data = routerFromCaptures();                       // the public captures
 *   const data = generateRouterData({ arp: 5000, leases: 5000, neighbors: 500 });
 *   const api = await startApiSimulator({ port: 0, data, faults: { emptyReplies: true } });
 *   const ssh = await startSshSimulator({ port: 0, data, faults: { logEcho: true } });
 *   ... api.port, ssh.port, api.connections(), api.setFaults({...}) ...
 *   await api.stop(); await ssh.stop();
 */
export { startApiSimulator, legacyResponse, type ApiFaults, type ApiSimulatorOptions, type RunningApiSimulator } from './routeros-api/server.js';
export { startSshSimulator, type SshFaults, type SshSimulatorOptions, type RunningSshSimulator } from './routeros-ssh/server.js';
export { generateRouterData, routerFromCaptures, routerMenus, type GeneratedSize, type RouterData, type Row } from './router-data.js';
export { readApiCapture, readConsoleCapture, apiCaptureFiles, consoleCaptureFiles, capturesDir } from './captures.js';
