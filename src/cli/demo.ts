/**
 * `switchyard demo` (what `npm start` runs): two HTTP echo backends in this process, the proxy
 * serving config/demo.yaml in front of them, and a printout of what to try.
 * Must never: be needed by `run`; the demo backends are samples, not part of the proxy.
 */
import * as http from 'node:http';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load';
import { createLogger } from '../observability/log';
import { ProxyServer } from '../runtime/proxy-server';
import type { CliArgs } from './args';
import { serveUntilSignal } from './main';

/** An echo backend: answers every request with what it received, as JSON. */
export function startEchoBackend(name: string, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = JSON.stringify(
        { backend: name, method: req.method, url: req.url, headers: req.headers, body_bytes: bytes },
        null,
        2,
      );
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.end(body + '\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export async function runDemo(args: CliArgs): Promise<number> {
  const file = join(__dirname, '..', '..', '..', 'config', 'demo.yaml');
  const config = await loadConfigFile(file);
  if (args.port !== undefined) config.listeners[0].address.port = args.port;
  if (args.adminPort !== undefined && config.admin !== null) config.admin.address.port = args.adminPort;
  const backends: http.Server[] = [];
  try {
    for (const [i, ep] of config.clusters[0].endpoints.entries()) {
      backends.push(await startEchoBackend(`echo-${i + 1}`, ep.address.host, ep.address.port));
    }
  } catch (err) {
    console.error(`demo: cannot start the sample backends (${(err as Error).message}); is another demo running?`);
    for (const b of backends) b.close();
    return 1;
  }
  const log = createLogger({ level: args.logLevel ?? 'info', destination: 'stderr', name: 'switchyard' });
  const server = new ProxyServer({ log });
  try {
    await server.start(config);
  } catch (err) {
    console.error(`demo: cannot start the proxy: ${(err as Error).message} (try --port and --admin-port)`);
    for (const b of backends) b.close();
    return 1;
  }
  const p = `http://127.0.0.1:${server.listenerPort('web')}`;
  const admin = server.adminPort === null ? null : `http://127.0.0.1:${server.adminPort}`;
  console.log(`
Switchyard demo is running: listener "web" on ${p}, two echo backends behind cluster "echo".
Config: ${file}

Try:
  curl -s ${p}/hello                                  # round-robin over echo-1 and echo-2
  curl -s ${p}/api/users                              # prefix_rewrite: the backend sees /users
  curl -s -H 'x-canary: 1' ${p}/hello                 # header match: always echo-2
  curl -si ${p}/health                                # direct response
  curl -si ${p}/old                                   # redirect
  curl -si ${p}/private/data                          # 401 from the api-key example filter
  curl -s -H 'x-api-key: demo-key' ${p}/private/data  # allowed
  curl -s -X POST --data-binary @package.json ${p}/upload
${admin === null ? '' : `
Admin: ${admin}/
  curl -s ${admin}/stats/prometheus | grep switchyard_
  curl -s ${admin}/clusters
  curl -s -X POST ${admin}/reload
`}
Ctrl-C drains and stops.
`);
  const code = await serveUntilSignal(server, null, log);
  for (const b of backends) b.close();
  return code;
}
