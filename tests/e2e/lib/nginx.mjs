// nginx in front of several jotd for the end-to-end tests: a round-robin load balancer on a
// free 127.0.0.1 port, started as our child process (`nginx -p DIR -c DIR/nginx.conf -g
// 'daemon off;'`) with everything it writes (pid, error log, temp paths) inside a temporary
// DIR, and stopped by stop() or, whatever happens to the test, at exit.
//
//   import { Nginx, requireNginx } from './lib/nginx.mjs';
//   requireNginx('jotd_pg_cluster');             // no nginx: SKIP line and exit 77
//   const lb = await Nginx.start([a.base, b.base, c.base]);
//   await lb.post('/token', {...});              // .headers.get('x-upstream'): which answered
//   await lb.stop();
//
// Nginx.startServers(servers, {port}) runs a configuration of the caller's instead (the
// server blocks, e.g. several TLS vhosts on one port, as in jotd_chromium), in the same frame:
// everything nginx writes inside DIR, the same cleanup.
//
// What the configuration says, and why:
// - `upstream` of the given jotd addresses, round-robin (nginx's default), no keep-alive to
//   them: an idle upstream connection would hold up a jotd draining on SIGTERM (see
//   lib/jotd.mjs on keep-alive);
// - `proxy_set_header X-Forwarded-For $remote_addr`: jotd started with --trusted-proxy
//   127.0.0.1/32 takes the client's address from it (per-IP throttling sees the client, not
//   nginx), and whatever the client wrote there itself is dropped;
// - `proxy_next_upstream off`: nginx never sends a request to a second instance after the
//   first failed. For a POST /token that is essential (a retried refresh is a replayed
//   refresh token, i.e. reuse and a revoked session); nginx already leaves out non-idempotent
//   methods by default, `off` says it for everything, so a dead instance shows as a 502;
// - every answer carries `X-Upstream: $upstream_addr`, the instance that answered it, so
//   tests can see how requests spread over the instances.
//
// As root (CI) the master runs as root and its worker as nginx's default user (nobody): the
// temporary DIR is made traversable (0711) so the worker reaches its temp paths there, which
// the master creates and hands to it; nothing in DIR is secret. As a normal user master and
// worker run as that user (there is no `user` directive). Cleanup signals the master with
// SIGTERM, never SIGKILL: a killed master would leave its worker behind, still listening.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HttpEndpoint, sleep } from './jotd.mjs';

/** The nginx binary: $JOT_NGINX, else Debian's /usr/sbin/nginx (package nginx-light). */
export const NGINX_BIN = process.env.JOT_NGINX || '/usr/sbin/nginx';

/** Whether nginx can be run here. */
export function haveNginx() {
  try {
    fs.accessSync(NGINX_BIN, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Skip the whole suite loudly when nginx is not installed: a SKIP line on stdout and
 *  stderr, exit 77 (CTest's SKIP_RETURN_CODE of the e2e.pg tests; under `node --test` the
 *  runner reports the file's "exitCode: 77", which tests/CMakeLists.txt's
 *  SKIP_REGULAR_EXPRESSION turns into a skip). Call it at the top of the test file. */
export function requireNginx(suite) {
  if (haveNginx()) return;
  const msg = `SKIP: ${suite}: nginx is not installed (no ${NGINX_BIN}; Debian: nginx-light, which scripts/install-deps installs)`;
  console.log(msg);
  process.stderr.write(msg + '\n');
  process.exit(77);
}

/** A port free on 127.0.0.1 now (nginx cannot listen on port 0 and tell us the port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const live = new Set(); // running nginx instances

function cleanupAll() {
  for (const n of live) {
    n.kill();
    n._rmdir(); // the master, going, needs nothing in it any more
  }
}
process.on('exit', cleanupAll);
// lib/jotd.mjs exits on these signals after its own cleanup; ours runs on 'exit' too

/** host:port of a jotd base URL (http://127.0.0.1:PORT). */
const hostPort = (u) => new URL(u).host;

function config(dir, port, upstreams) {
  return wrap(dir, `    upstream jotd {
${upstreams.map((u) => `        server ${hostPort(u)};`).join('\n')}
    }
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://jotd;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream off;
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }
    }`);
}

/** The frame of every configuration here (and of jotd_portal's, around the recipe):
 *  \p servers inside `http { }`, everything nginx writes inside \p dir. */
export function wrap(dir, servers) {
  return `# written by tests/e2e/lib/nginx.mjs
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
${servers}
}
`;
}

/** Whether something accepts TCP connections on 127.0.0.1:\p port. */
function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Nginx extends HttpEndpoint {
  /** Start nginx balancing over \p upstreams (base URLs of jotd: http://127.0.0.1:PORT). */
  static async start(upstreams) {
    const n = new Nginx();
    let lastErr;
    // the free port may be taken between our probe and nginx's bind: try a few
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        n.upstreams = upstreams.map(hostPort);
        await n._start((dir, port) => config(dir, port, upstreams), { scheme: 'http' });
        return n;
      } catch (e) {
        lastErr = e;
        n.kill();
        n._rmdir();
        if (!/Address already in use/.test(e.message)) break;
      }
    }
    throw lastErr;
  }

  /**
   * Start nginx with a configuration of the caller's: \p servers(dir, port) returns what goes
   * inside `http { }` (upstream and server blocks listening on 127.0.0.1:port; TLS or not),
   * around which the same pid, error log and temp paths in DIR are written as for start().
   * \p port: the port to listen on (a caller that must name it before nginx starts, e.g. in
   * jotd's issuer, takes one from freePort()), else a free one. Ready when the port accepts
   * connections. this.base is https://127.0.0.1:PORT; requests to a name-based vhost need
   * their own Host/servername (see lib/browser.mjs for the browser side).
   */
  static async startServers(servers, { port } = {}) {
    const n = new Nginx();
    try {
      await n._start((dir, p) => wrap(dir, servers(dir, p)), { port, scheme: 'https' });
    } catch (e) {
      n.kill();
      n._rmdir();
      throw e;
    }
    return n;
  }

  async _start(makeConfig, { port, scheme }) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jot-nginx-'));
    if (process.getuid?.() === 0) fs.chmodSync(this.dir, 0o711); // the worker (nobody) reaches its temp paths
    this.port = port ?? (await freePort());
    this.base = `${scheme}://127.0.0.1:${this.port}`;
    const conf = path.join(this.dir, 'nginx.conf');
    fs.writeFileSync(conf, makeConfig(this.dir, this.port));
    this.output = '';
    this.exit = null;
    // -e: the error log of the start-up, before nginx.conf is read (not /var/log/nginx)
    const p = spawn(NGINX_BIN, ['-p', this.dir + '/', '-c', conf, '-e', path.join(this.dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    live.add(this);
    for (const s of [p.stdout, p.stderr]) {
      s.setEncoding('utf8');
      s.on('data', (d) => (this.output += d));
      s.unref();
    }
    this.exited = new Promise((resolve) => {
      p.on('exit', (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    p.on('error', (e) => {
      this.output += `spawn: ${e.message}\n`;
    });
    p.unref();
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (this.exit) throw new Error(`nginx exited at start: ${JSON.stringify(this.exit)}\n${this.output}${this.errorLog()}`);
      try {
        if (scheme === 'http') {
          const r = await this.get('/healthz');
          if (r.status === 200) break;
        } else if (await accepts(this.port)) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`nginx did not start listening\n${this.output}${this.errorLog()}`);
      await sleep(20);
    }
  }

  /** nginx's error log (for failure messages). */
  errorLog() {
    try {
      return fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** One request through nginx (HttpEndpoint.request). The answer has .upstream: the
   *  host:port of the jotd that answered (X-Upstream), or undefined. */
  async request(p, opts = {}) {
    const r = await super.request(p, opts);
    r.upstream = r.headers.get('x-upstream') ?? undefined;
    return r;
  }

  /** Fast shutdown (SIGTERM: the master stops its worker, then exits), without waiting. */
  kill() {
    if (this.proc && !this.exit) this.proc.kill('SIGTERM');
  }

  _rmdir() {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stop nginx (SIGQUIT: graceful; SIGTERM after 5 s, SIGKILL after 10 s) and remove its
   *  directory. Never throws: call it from after() hooks. */
  async stop() {
    if (this.proc && !this.exit) {
      this.proc.kill('SIGQUIT');
      const t1 = setTimeout(() => this.kill(), 5000);
      const t2 = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(t1);
      clearTimeout(t2);
    }
    this._rmdir();
  }
}
