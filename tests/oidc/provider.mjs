// A real OpenID Connect provider for the tests (oidc-provider, the certified Node.js
// implementation), on 127.0.0.1: one client (Laurel), PKCE required, and one person whose
// address it vouches for. Its login step signs that person in at once (the tests drive the
// redirects; a person would see the provider's own pages). Prints "listening <url>" when ready.
//   PORT, REDIRECT (Laurel's callback), EMAIL, SECRET
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const Provider = require("../browser/node_modules/oidc-provider").default
  ?? require("../browser/node_modules/oidc-provider");

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const account = "person-1";
const provider = new Provider(issuer, {
  clients: [{
    client_id: "laurel",
    client_secret: process.env.SECRET,
    redirect_uris: [process.env.REDIRECT],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: process.env.EMAIL, email_verified: true, name: "OIDC Person" }),
  }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ["laurel-test-provider"] },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith("/interaction/")) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const grant = new provider.Grant({ accountId: account, clientId: details.params.client_id });
    grant.addOIDCScope("openid email profile");
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: account },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    return;
  }
  await next();
});

provider.listen(port, "127.0.0.1", () => console.log(`listening ${issuer}`));
