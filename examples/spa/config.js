// Where the app finds jotd and its API. Edit for your deployment (docs/browser.md,
// "Single-page apps (cookie mode)"); the browser test writes its own.
window.JOT_CONFIG = {
  issuer: 'https://auth.example.com', // jotd's --issuer: /authorize, /token, /logout under it
  clientId: 'spa', // jotd client add spa --public --cookie-mode ...
  redirectUri: 'https://app.example.com/', // registered with --redirect-uri, exactly
  api: 'https://app.example.com/api', // GET <api>/hello with the access token
};
