// AuthKit's authorization-code flow through @workos-inc/node against the fake WorkOS (tests/Roster.Tests/Support/FakeWorkOs.AuthKit.cs):
// getAuthorizationUrl for the inputs Roster used (the URL must equal Roster's), the authorize redirect with code and state,
// authenticateWithCode, a spent code refused, authenticateWithRefreshToken with rotation, a spent refresh token refused.
// Prints one JSON object with what the SDK saw; the .NET side asserts on it and compares the requests the fake recorded.
import { sdk, failure } from '../workos/lib.mjs';
import { env, print } from '../lib/io.mjs';

const baseUrl = env('WORKOS_BASE_URL');
const workos = sdk(baseUrl, env('WORKOS_API_KEY'));
const clientId = env('AUTHKIT_CLIENT_ID');
const redirectUri = env('AUTHKIT_REDIRECT_URI');
const state = env('AUTHKIT_STATE');

const out = {};
out.authorizationUrl = workos.userManagement.getAuthorizationUrl({ provider: 'authkit', clientId, redirectUri, state });

const authorize = await fetch(out.authorizationUrl, { redirect: 'manual' });
out.authorizeStatus = authorize.status;
const location = new URL(authorize.headers.get('location'));
out.redirectedTo = `${location.origin}${location.pathname}`;
out.returnedState = location.searchParams.get('state');
const code = location.searchParams.get('code');

const session = await workos.userManagement.authenticateWithCode({ clientId, code });
out.user = { id: session.user.id, email: session.user.email, emailVerified: session.user.emailVerified, firstName: session.user.firstName, lastName: session.user.lastName };
out.hasAccessToken = typeof session.accessToken === 'string' && session.accessToken.split('.').length === 3;
out.hasRefreshToken = typeof session.refreshToken === 'string' && session.refreshToken.length > 0;

try {
  await workos.userManagement.authenticateWithCode({ clientId, code });
  out.spentCode = 'accepted';
} catch (error) {
  out.spentCode = failure(error);
}

const refreshed = await workos.userManagement.authenticateWithRefreshToken({ clientId, refreshToken: session.refreshToken });
out.refreshedUser = refreshed.user.id;
out.rotated = refreshed.refreshToken !== session.refreshToken;
try {
  await workos.userManagement.authenticateWithRefreshToken({ clientId, refreshToken: session.refreshToken });
  out.spentRefresh = 'accepted';
} catch (error) {
  out.spentRefresh = failure(error);
}
print(out);
