// systemd Type=notify without systemd: jotd with NOTIFY_SOCKET pointing at a Unix datagram
// socket that this suite reads (tests/e2e/lib/notify_listen.py, python3's socket module):
// READY=1 once it listens, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around SIGHUP,
// STOPPING=1 at SIGTERM. The unit file itself is checked by `systemd-analyze verify` in the
// CTest test install.prefix (tests/install/install.sh), on the installed copy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Jotd, mkTmp, sleep } from './lib/jotd.mjs';

const LISTENER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'notify_listen.py');
const children = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

/** The listener on a fresh socket path: { path, messages (array, filled as they come) }. */
async function notifySocket() {
  const sock = path.join(mkTmp('jotd-notify-'), 'notify.sock');
  const p = spawn(LISTENER, [sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  const messages = [];
  let buf = '', ready;
  const listening = new Promise((r) => (ready = r));
  p.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'listening') ready();
      else messages.push(JSON.parse(line));
    }
  });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  await Promise.race([listening, sleep(5000).then(() => { throw new Error(`notify listener did not start: ${err}`); })]);
  return { path: sock, messages };
}

async function waitFor(messages, pred, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const m = messages.find(pred);
    if (m) return m;
    if (Date.now() > end) throw new Error(`no ${what} notification; got ${JSON.stringify(messages)}`);
    await sleep(20);
  }
}

describe('sd_notify (NOTIFY_SOCKET)', () => {
  test('READY=1 after listening, RELOADING=1 / READY=1 around SIGHUP, STOPPING=1 on SIGTERM', async () => {
    const n = await notifySocket();
    const s = await Jotd.start({ env: { NOTIFY_SOCKET: n.path } });
    try {
      await waitFor(n.messages, (m) => m === 'READY=1', 'READY=1');
      // ready means serving
      assert.equal((await s.get('/healthz')).status, 200);
      const before = n.messages.length;
      s.signal('SIGHUP');
      const rl = await waitFor(n.messages, (m, i) => i >= before && m.startsWith('RELOADING=1'), 'RELOADING=1');
      assert.match(rl, /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
      await waitFor(n.messages, (m, i) => i > before && m === 'READY=1', 'READY=1 after the reload');
      await s.stop(); // SIGTERM, exit 0
      await waitFor(n.messages, (m) => m === 'STOPPING=1', 'STOPPING=1');
      assert.deepEqual(n.messages.filter((m) => m === 'STOPPING=1').length, 1);
    } finally {
      s.kill();
    }
  });

  test('an unusable NOTIFY_SOCKET is logged, not fatal', async () => {
    const s = await Jotd.start({ env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' } });
    try {
      assert.equal((await s.get('/healthz')).status, 200);
      await s.waitLog((l) => l.level === 'warn' && /NOTIFY_SOCKET/.test(l.msg ?? ''));
      await s.stop();
    } finally {
      s.kill();
    }
  });
});

