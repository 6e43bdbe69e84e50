// A single-page app signing in with jotd: authorization code + PKCE S256 (RFC 7636), the
// access token kept in this script's memory only, the refresh token in jotd's HttpOnly
// cookie (cookie mode: the page never sees it). No build step, no dependency.
//
// Rules it follows (docs/browser.md, "Single-page apps (cookie mode)"):
// - state and the PKCE verifier are random per sign-in, kept in sessionStorage only across
//   the redirect to jotd and back, and removed at once; the state must match, and so must
//   the iss parameter (RFC 9207) when jotd sends it;
// - the access token is never written to localStorage, sessionStorage, a cookie or the URL;
// - every call to jotd's /token and /logout uses credentials: 'include' (the cookie) and a
//   JSON body (a preflighted request: jotd's CSRF defence);
// - on load and on a 401 from the API the token is refreshed from the cookie, once at a
//   time within a tab (jotd's grace window covers two tabs refreshing at once).
'use strict';

(() => {
  const cfg = window.JOT_CONFIG;
  const issuer = cfg.issuer.replace(/\/+$/, '');
  const PENDING = 'jot-spa-pending'; // sessionStorage: {state, verifier} during a sign-in

  let accessToken = null; // memory only
  let refreshing = null; // the refresh in flight, shared by its callers

  const $ = (id) => document.getElementById(id);

  function show(status, user) {
    $('status').textContent = status;
    if (user !== undefined) $('user').textContent = user;
    const signedIn = status === 'signed-in';
    $('signin').disabled = signedIn;
    $('call').disabled = !signedIn;
    $('signout').disabled = !signedIn;
  }

  function fail(message) {
    accessToken = null;
    show(`error: ${message}`, '');
  }

  function b64url(bytes) {
    let s = '';
    for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const randomString = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

  async function s256(text) {
    return b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  }

  /** The sub claim of an access token, for display only (the API verifies the token). */
  function subjectOf(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part)).sub ?? '';
    } catch {
      return '';
    }
  }

  async function postJson(path, body, headers = {}) {
    return fetch(`${issuer}${path}`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  /** A token response: keep the access token in memory; the refresh token is the cookie. */
  async function takeTokens(r) {
    const body = await r.json().catch(() => ({}));
    if (!r.ok || typeof body.access_token !== 'string') {
      throw new Error(body.error_description || body.error || `HTTP ${r.status}`);
    }
    accessToken = body.access_token;
    show('signed-in', subjectOf(accessToken));
  }

  async function signIn() {
    const state = randomString();
    const verifier = randomString();
    sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier }));
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: cfg.clientId,
      redirect_uri: cfg.redirectUri,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
      state,
    });
    window.location.assign(`${issuer}/authorize?${q}`);
  }

  /** Back from /authorize: the code (or the error) in the query. true when it was one. */
  async function finishSignIn() {
    const p = new URLSearchParams(window.location.search);
    if (!p.has('code') && !p.has('error')) return false;
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
    sessionStorage.removeItem(PENDING);
    // the code must not stay in the address bar or the history
    window.history.replaceState(null, '', window.location.pathname);
    if (!pending || p.get('state') !== pending.state) {
      fail('state mismatch: not the sign-in this page started');
      return true;
    }
    if (p.has('iss') && p.get('iss') !== issuer) {
      fail('iss mismatch: the answer does not come from this issuer');
      return true;
    }
    if (p.has('error')) {
      fail(p.get('error_description') || p.get('error'));
      return true;
    }
    try {
      await takeTokens(await postJson('/token', {
        grant_type: 'authorization_code',
        client_id: cfg.clientId,
        code: p.get('code'),
        redirect_uri: cfg.redirectUri,
        code_verifier: pending.verifier,
      }));
    } catch (e) {
      fail(e.message);
    }
    return true;
  }

  /** A new access token from the refresh cookie; false when there is no session. */
  function refresh() {
    refreshing ??= (async () => {
      try {
        const r = await postJson('/token', { grant_type: 'refresh_token', client_id: cfg.clientId });
        if (r.status === 400 || r.status === 401) {
          accessToken = null;
          show('signed-out', '');
          return false;
        }
        await takeTokens(r);
        return true;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function callApi() {
    const get = () => fetch(`${cfg.api}/hello`, { headers: { Authorization: `Bearer ${accessToken}` } });
    try {
      let r = await get();
      if (r.status === 401 && (await refresh())) r = await get();
      const text = await r.text();
      $('api-result').textContent = text;
      if (!r.ok) {
        if (r.status === 401) show('signed-out', '');
        return;
      }
      const body = JSON.parse(text);
      if (body.sub) $('user').textContent = body.sub;
    } catch (e) {
      fail(e.message);
    }
  }

  /** Sign out: the bearer names the session; jotd ends it and clears the refresh cookie. The
   *  cookie never reaches /logout (its Path is the token endpoint's), so an access token that
   *  has expired (or a page reloaded without one) is refreshed first. */
  async function signOut() {
    $('api-result').textContent = '';
    const logout = (token) =>
      fetch(`${issuer}/logout`, {
        method: 'POST',
        credentials: 'include',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: cfg.clientId }),
      });
    try {
      let r = accessToken ? await logout(accessToken) : null;
      if (!r || r.status === 401) {
        if (!(await refresh())) {
          show('signed-out', ''); // no session left to end
          return;
        }
        r = await logout(accessToken);
      }
      accessToken = null;
      if (r.status !== 204) throw new Error(`logout: HTTP ${r.status}`);
      show('signed-out', '');
    } catch (e) {
      fail(e.message);
    }
  }

  $('signin').addEventListener('click', () => {
    signIn().catch((e) => fail(e.message));
  });
  $('call').addEventListener('click', callApi);
  $('signout').addEventListener('click', signOut);

  (async () => {
    show('signed-out', '');
    if (await finishSignIn()) return;
    try {
      await refresh(); // a session from an earlier visit (the cookie)
    } catch (e) {
      fail(e.message);
    }
  })();
})();
