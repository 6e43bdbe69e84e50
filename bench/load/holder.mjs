// Hostile connections for bench/load/run.sh, to 127.0.0.1 only:
//   node holder.mjs idle N PORT SECONDS              N connections that send nothing
//   node holder.mjs slow N PORT SECONDS INTERVAL_MS  N connections sending request headers
//                                                    one byte per INTERVAL_MS (slowloris)
// A connection the server closes is counted and opened again (as an attacker would), so
// the pressure stays at N for the whole run. Prints "READY <open>" on stderr once all N are
// open (or could not be), and one JSON summary line on stdout at the end.
import net from 'node:net';

const [mode, nArg, portArg, secondsArg, intervalArg] = process.argv.slice(2);
const N = Number(nArg);
const PORT = Number(portArg);
const SECONDS = Number(secondsArg);
const INTERVAL = Number(intervalArg ?? 1000);
if (!['idle', 'slow'].includes(mode) || !(N > 0) || !(PORT > 0) || !(SECONDS > 0)) {
  console.error('usage: node holder.mjs idle|slow N PORT SECONDS [INTERVAL_MS]');
  process.exit(2);
}
const HOST = '127.0.0.1'; // never anything else

// The header bytes a slow client dribbles: a request line and a header that never ends.
const SLOW_PREFIX = `GET /verify HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: slowloris\r\nX-Padding: `;

const st = {
  mode,
  target: N,
  opened: 0,
  openFailures: 0,
  closedByServer: 0,
  reopened: 0,
  answeredByServer: 0,
  maxOpen: 0,
  bytesSent: 0,
  firstErrors: {},
};
let open = 0;
let stopping = false;
const sockets = new Set();

function track(err) {
  const k = err.code ?? err.message;
  st.firstErrors[k] = (st.firstErrors[k] ?? 0) + 1;
}

function connect(isReopen) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port: PORT });
    let established = false;
    let pos = 0;
    let timer = null;
    s.setNoDelay(true);
    s.on('connect', () => {
      established = true;
      st.opened++;
      if (isReopen) st.reopened++;
      open++;
      sockets.add(s);
      st.maxOpen = Math.max(st.maxOpen, open);
      if (mode === 'slow') {
        timer = setInterval(() => {
          const text = pos < SLOW_PREFIX.length ? SLOW_PREFIX[pos] : 'a';
          pos++;
          st.bytesSent++;
          s.write(text);
        }, INTERVAL);
        timer.unref();
      }
      resolve(true);
    });
    s.on('data', () => {
      st.answeredByServer++; // e.g. 408 or 431: the server gave up on us
    });
    s.on('error', (e) => {
      track(e);
      if (!established) {
        st.openFailures++;
        resolve(false);
      }
    });
    s.on('close', () => {
      if (timer) clearInterval(timer);
      if (!established) return;
      open--;
      sockets.delete(s);
      if (!stopping) {
        st.closedByServer++;
        setTimeout(() => connect(true), 10);
      }
    });
  });
}

const deadline = setTimeout(finish, SECONDS * 1000);

// open in batches: the listen backlog is finite
for (let i = 0; i < N; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + 200); j++) batch.push(connect(false));
  await Promise.all(batch);
}
process.stderr.write(`READY ${open}\n`);

function finish() {
  stopping = true;
  clearTimeout(deadline);
  st.openAtEnd = open;
  for (const s of sockets) s.destroy();
  process.stdout.write(JSON.stringify(st) + '\n');
  setTimeout(() => process.exit(0), 100).unref();
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
