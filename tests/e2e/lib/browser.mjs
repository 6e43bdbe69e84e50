// A real browser for the end-to-end tests: Debian's Chromium (/usr/bin/chromium, package
// `chromium`) driven by the npm package playwright-core, which never downloads a browser of
// its own: it is given the installed one (executablePath). HTTPS with a test CA made for the
// run by the openssl CLI, host names mapped to loopback by Chromium itself.
//
//   import { requireChromium, testCA, launchChromium, screenshot } from './lib/browser.mjs';
//   requireChromium('jotd_chromium');          // no Chromium or driver: SKIP line, exit 77
//   const ca = testCA(dir);                    // { caFile, certFile, keyFile, spki }
//   const browser = await launchChromium({ spki: ca.spki });
//   ...; await screenshot(page, 'login-empty');  // build/test-artifacts/browser/login-empty.png
//   await browser.close();                     // or, whatever happens, at exit
//
// Why these choices:
// - trust: Chromium accepts exactly our leaf certificate, named by the SHA-256 of its
//   SubjectPublicKeyInfo (--ignore-certificate-errors-spki-list). Nothing else is waived:
//   no --ignore-certificate-errors, no ignoreHTTPSErrors, so a wrong certificate still fails.
//   (Chromium honours the list only when it is given together with a user data dir, which
//   playwright always gives it.)
// - names: --host-resolver-rules maps *.jot.test and jot.test to 127.0.0.1 inside Chromium,
//   nothing on the machine changes (no /etc/hosts). The ports stay those of the URL. Pages
//   and jotd are then both served from loopback: Chromium's local-network-access rules have
//   nothing to block (a page Chromium considered public, e.g. one answered by request
//   interception, could not call a loopback jotd).
// - as root (CI) Chromium refuses to start without --no-sandbox; --disable-dev-shm-usage
//   because /dev/shm is small in containers.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository's root (tests/e2e/lib/../../..), or $JOT_SOURCE_DIR. */
export const REPO = process.env.JOT_SOURCE_DIR ? path.resolve(process.env.JOT_SOURCE_DIR) : path.resolve(HERE, '../../..');
/** The browser: $JOT_CHROMIUM, else Debian's /usr/bin/chromium. */
export const CHROMIUM_BIN = process.env.JOT_CHROMIUM || '/usr/bin/chromium';

const require = createRequire(import.meta.url);

/** Why Chromium cannot be driven here, or null when it can. */
export function chromiumMissing() {
  try {
    fs.accessSync(CHROMIUM_BIN, fs.constants.X_OK);
  } catch {
    return `no ${CHROMIUM_BIN} (Debian: chromium, which scripts/install-deps installs)`;
  }
  try {
    require.resolve('playwright-core');
  } catch {
    return 'the npm package playwright-core is not installed (scripts/install-deps, or npm ci in tests/e2e)';
  }
  return null;
}

/** Skip the whole suite loudly when Chromium or its driver is missing: a SKIP line on stdout
 *  and stderr, exit 77 (see requireNginx in lib/nginx.mjs). Call it at the top of the file. */
export function requireChromium(suite) {
  const why = chromiumMissing();
  if (!why) return;
  const msg = `SKIP: ${suite}: ${why}`;
  console.log(msg);
  process.stderr.write(msg + '\n');
  process.exit(77);
}

function openssl(args, opts = {}) {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, ...opts });
}

/** The base64 SHA-256 of the SubjectPublicKeyInfo of the PEM certificate \p pem (what
 *  --ignore-certificate-errors-spki-list takes). */
export function spkiHash(pem) {
  const spki = new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

/**
 * A test CA and one leaf certificate for `*.jot.test` and `jot.test`, made in \p dir with the
 * openssl CLI (P-256 keys, valid two days). Returns { caFile, certFile (leaf, then the CA: the
 * chain nginx serves), leafFile, keyFile, spki (base64 SHA-256 of the leaf's SPKI) }.
 */
export function testCA(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=jot e2e test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-new', ...ec, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=jot.test']);
  fs.writeFileSync(f('leaf.ext'), [
    'subjectAltName=DNS:*.jot.test,DNS:jot.test',
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'));
  openssl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f('leaf.ext'), '-out', f('leaf.pem')]);
  const leaf = fs.readFileSync(f('leaf.pem'), 'utf8');
  fs.writeFileSync(f('chain.pem'), leaf + fs.readFileSync(f('ca.pem'), 'utf8'));
  // the key is read by nginx's master (root or us), never by its worker
  fs.chmodSync(f('leaf.key'), 0o600);
  return { caFile: f('ca.pem'), certFile: f('chain.pem'), leafFile: f('leaf.pem'), keyFile: f('leaf.key'), spki: spkiHash(leaf) };
}

/** The Chromium flags of launchChromium (exported for scripts and for the report). */
export function chromiumArgs({ spki, extra = [] } = {}) {
  const args = [
    '--host-resolver-rules=MAP *.jot.test 127.0.0.1, MAP jot.test 127.0.0.1',
    '--disable-dev-shm-usage',
    // no first-run, sync or component traffic to the outside from a test browser
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
  ];
  if (spki) args.push(`--ignore-certificate-errors-spki-list=${[].concat(spki).join(',')}`);
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return [...args, ...extra];
}

/** Launch headless Chromium (playwright-core's `chromium`) with the flags above. Close it
 *  with browser.close(); should the test process die first, playwright's own exit handler
 *  kills the browser (it does so for every browser it launched). */
export async function launchChromium({ spki, args = [] } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: chromiumArgs({ spki, extra: args }),
    timeout: 60_000,
  });
}

/** Where screenshots go (made when first needed): $JOT_ARTIFACTS, else test-artifacts/browser
 *  in the build tree of $JOT_BIN (CTest sets it: build/test-artifacts/browser for `make
 *  test`, build-asan/... for a sanitizer build), else build/test-artifacts/browser. */
export function artifactDir() {
  const d = process.env.JOT_ARTIFACTS ? path.resolve(process.env.JOT_ARTIFACTS)
    : process.env.JOT_BIN ? path.resolve(process.env.JOT_BIN, '..', 'test-artifacts', 'browser')
    : path.join(REPO, 'build', 'test-artifacts', 'browser');
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Save a PNG of \p page as NAME.png in \p dir (default artifactDir()); returns its path. */
export async function screenshot(page, name, { dir = artifactDir(), fullPage = true } = {}) {
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/**
 * Collect what a page reports as going wrong: console errors and warnings, uncaught
 * exceptions, and Content-Security-Policy violations (a `securitypolicyviolation` listener
 * installed in every document before its own content runs). \p context: a BrowserContext.
 * Returns an array that fills as problems arrive: [{ kind, text, url }].
 */
export async function collectProblems(context) {
  const problems = [];
  await context.exposeBinding('__jotReportCsp', ({ page }, v) => problems.push({ kind: 'csp', text: v, url: page.url() }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // the binding exists in every frame of the context
      window.__jotReportCsp?.(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      const where = m.location()?.url ?? '';
      // Chromium reports every 4xx/5xx answer on the console, the document's own too (a 400
      // "wrong password" page is what the server meant to send) and the favicon it asks for
      // by itself; a subresource the page uses that failed still counts
      if (/^Failed to load resource: the server responded with a status of \d+/.test(m.text()) &&
        (where === page.url() || new URL(where || 'about:blank').pathname === '/favicon.ico')) return;
      problems.push({ kind: `console.${m.type()}`, text: m.text(), url: page.url(), where });
    });
    page.on('pageerror', (e) => problems.push({ kind: 'pageerror', text: String(e), url: page.url() }));
  };
  for (const p of context.pages()) watch(p);
  context.on('page', watch);
  return problems;
}

/**
 * The login page's three looks, saved as PNGs: NAME-empty (the form), NAME-wrong-password
 * (after a wrong password for \p user) and NAME-throttled (after wrong passwords until the
 * throttle answers). \p loginUrl: jotd's /login as the browser reaches it. The same code makes
 * the test's artefacts and docs/img/login.png (scripts/screenshot-login). Returns
 * { files: {empty, wrong, throttled}, messages: {wrong, throttled} (the #error texts),
 * attempts (wrong passwords it took to be throttled) }.
 */
export async function loginPageShots(context, loginUrl, { user, dir = artifactDir(), name = 'login', maxAttempts = 20 } = {}) {
  const page = await context.newPage();
  const files = {};
  const messages = {};
  try {
    await page.goto(loginUrl);
    await page.locator('#username').waitFor();
    files.empty = await screenshot(page, `${name}-empty`, { dir });
    const wrong = async () => {
      await page.fill('#username', user);
      await page.fill('#password', 'not-the-password-1');
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      return (await page.locator('#error').textContent()).trim();
    };
    messages.wrong = await wrong();
    files.wrong = await screenshot(page, `${name}-wrong-password`, { dir });
    let attempts = 1;
    while (!/too many/i.test(messages.throttled ?? '')) {
      if (attempts >= maxAttempts) throw new Error(`not throttled after ${attempts} wrong passwords: ${messages.throttled}`);
      messages.throttled = await wrong();
      attempts++;
    }
    files.throttled = await screenshot(page, `${name}-throttled`, { dir });
    return { files, messages, attempts };
  } finally {
    await page.close();
  }
}
