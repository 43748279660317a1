// An independent, OpenID Certified authorization server (the npm package
// oidc-provider) for the interoperability tests, on 127.0.0.1.
//
//   node server.mjs CONFIG.json
//
// CONFIG.json: {"clients": [...client metadata...], "requirePar": false,
// "requireDpopNonce": false}. The server listens on a free port and prints
// one line of JSON, {"issuer": "http://127.0.0.1:PORT"}, once it is ready.
// Logins are approved at once for the account "alice" (no login page).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function signingKey(type, options, alg, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, kid, use: 'sig' };
}

const jwks = {
  keys: [
    signingKey('rsa', { modulusLength: 2048 }, 'RS256', 'rsa-1'),
    signingKey('rsa', { modulusLength: 2048 }, 'PS256', 'ps-1'),
    signingKey('ec', { namedCurve: 'P-256' }, 'ES256', 'ec-1'),
    signingKey('ed25519', {}, 'Ed25519', 'ed-1'),
  ],
};

const accounts = {
  alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice' },
};

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  findAccount: (ctx, id) => (accounts[id]
    ? { accountId: id, claims: () => accounts[id] }
    : undefined),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
  pkce: { required: () => true },
  // The back-channel logout target is the test's app on 127.0.0.1, which the
  // provider's SSRF protection would refuse: reach it without that check.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'],
  },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: Boolean(config.requirePar),
    },
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: () => Boolean(config.requireDpopNonce),
    },
  },
});
provider.proxy = false;

// Approve every interaction at once: log "alice" in, grant what is asked.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    return provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: 'alice' } },
      { mergeWithLastSubmission: false },
    );
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) {
    grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  }
  if (prompt.details.missingOIDCClaims) {
    grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  }
  const grantId = await grant.save();
  return provider.interactionFinished(
    ctx.req,
    ctx.res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
});

provider.on('backchannel.error', (ctx, error) => {
  process.stderr.write(`back-channel logout failed: ${error.message}\n`);
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
