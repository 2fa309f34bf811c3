import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, type Daemon } from './processes.js';

/** What one lab service is and what a correct scanner must say about it. */
export interface LabServiceSpec {
  name: string;
  /** The Debian package whose version the scanner must report. */
  package: string;
  /** Host part of the address inside the lab's /24. */
  host: number;
  ports: { port: number; protocol: 'tcp' | 'udp' }[];
  expect: { service: string; product: string };
  start(address: string, dir: string): Daemon;
  /** Output line that says the daemon is ready, for daemons without a TCP port to poll. */
  readyLine?: RegExp;
}

function selfSignedCertificate(dir: string, commonName: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '30',
      '-subj',
      `/CN=${commonName}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

export const labServices: readonly LabServiceSpec[] = [
  {
    name: 'openssh',
    package: 'openssh-server',
    host: 2,
    ports: [{ port: 22, protocol: 'tcp' }],
    expect: { service: 'ssh', product: 'OpenSSH' },
    start(address, dir) {
      const key = path.join(dir, 'ssh_host_ed25519_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      const config = path.join(dir, 'sshd_config');
      writeFileSync(
        config,
        [
          `ListenAddress ${address}:22`,
          `HostKey ${key}`,
          `PidFile ${path.join(dir, 'sshd.pid')}`,
          'UsePAM no',
          'StrictModes no',
          'PasswordAuthentication no',
          '',
        ].join('\n'),
      );
      return startDaemon('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', config]);
    },
  },
  {
    name: 'nginx',
    package: 'nginx-light',
    host: 3,
    ports: [
      { port: 80, protocol: 'tcp' },
      { port: 443, protocol: 'tcp' },
    ],
    expect: { service: 'http', product: 'nginx' },
    start(address, dir) {
      const { cert, key } = selfSignedCertificate(dir, 'lab-nginx');
      const temp = (name: string) => `${name} ${path.join(dir, name)};`;
      const config = path.join(dir, 'nginx.conf');
      writeFileSync(
        config,
        `daemon off; worker_processes 1; pid ${path.join(dir, 'nginx.pid')}; error_log ${path.join(dir, 'nginx-error.log')};
events { worker_connections 256; }
http {
  access_log off; ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')} ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}
  server {
    listen ${address}:80; listen ${address}:443 ssl;
    ssl_certificate ${cert}; ssl_certificate_key ${key};
    location / { default_type text/html; return 200 '<html><head><title>lab nginx</title></head><body>ok</body></html>'; }
  }
}
`,
      );
      return startDaemon('nginx', '/usr/sbin/nginx', ['-c', config, '-p', dir]);
    },
  },
  {
    name: 'lighttpd',
    package: 'lighttpd',
    host: 4,
    ports: [{ port: 80, protocol: 'tcp' }],
    expect: { service: 'http', product: 'lighttpd' },
    start(address, dir) {
      const root = path.join(dir, 'www');
      mkdirSync(root);
      writeFileSync(path.join(root, 'index.html'), '<html><head><title>lab lighttpd</title></head><body>ok</body></html>');
      const config = path.join(dir, 'lighttpd.conf');
      writeFileSync(
        config,
        [
          `server.document-root = "${root}"`,
          `server.bind = "${address}"`,
          'server.port = 80',
          `server.pid-file = "${path.join(dir, 'lighttpd.pid')}"`,
          `server.errorlog = "${path.join(dir, 'lighttpd-error.log')}"`,
          'index-file.names = ("index.html")',
          '',
        ].join('\n'),
      );
      return startDaemon('lighttpd', '/usr/sbin/lighttpd', ['-D', '-f', config]);
    },
  },
  {
    name: 'vsftpd',
    package: 'vsftpd',
    host: 5,
    ports: [{ port: 21, protocol: 'tcp' }],
    expect: { service: 'ftp', product: 'vsftpd' },
    start(address, dir) {
      mkdirSync('/var/run/vsftpd/empty', { recursive: true, mode: 0o755 });
      const config = path.join(dir, 'vsftpd.conf');
      writeFileSync(
        config,
        [
          'listen=YES',
          'listen_ipv6=NO',
          `listen_address=${address}`,
          'listen_port=21',
          'background=NO',
          'anonymous_enable=YES',
          'no_anon_password=YES',
          `anon_root=${dir}`,
          'local_enable=NO',
          'secure_chroot_dir=/var/run/vsftpd/empty',
          'xferlog_enable=NO',
          'seccomp_sandbox=NO',
          '',
        ].join('\n'),
      );
      return startDaemon('vsftpd', '/usr/sbin/vsftpd', [config]);
    },
  },
  {
    name: 'dnsmasq',
    package: 'dnsmasq-base',
    host: 6,
    ports: [
      { port: 53, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
    ],
    expect: { service: 'dns', product: 'dnsmasq' },
    start(address, dir) {
      return startDaemon('dnsmasq', '/usr/sbin/dnsmasq', [
        '-k',
        '--conf-file=/dev/null',
        `--listen-address=${address}`,
        '--bind-interfaces',
        '--port=53',
        '--no-resolv',
        '--no-hosts',
        `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
        '--user=root',
        '--log-facility=-',
      ]);
    },
  },
  {
    name: 'redis',
    package: 'redis-server',
    host: 7,
    ports: [{ port: 6379, protocol: 'tcp' }],
    expect: { service: 'redis', product: 'Redis' },
    start(address, dir) {
      return startDaemon('redis', '/usr/bin/redis-server', [
        '--bind',
        address,
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
        '--logfile',
        '',
      ]);
    },
  },
  {
    name: 'snmpd',
    package: 'snmpd',
    host: 8,
    ports: [{ port: 161, protocol: 'udp' }],
    expect: { service: 'snmp', product: 'Net-SNMP' },
    readyLine: /NET-SNMP version/,
    start(address, dir) {
      const config = path.join(dir, 'snmpd.conf');
      writeFileSync(config, 'rocommunity public 127.0.0.0/8\n');
      const persistent = path.join(dir, 'snmp-persist');
      mkdirSync(persistent);
      return startDaemon(
        'snmpd',
        '/usr/sbin/snmpd',
        ['-f', '-Lo', '-C', '-I', '-smux', '-c', config, '-p', path.join(dir, 'snmpd.pid'), `udp:${address}:161`],
        { SNMP_PERSISTENT_DIR: persistent, MIBS: '' },
      );
    },
  },
];
