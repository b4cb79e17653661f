export { authPlugin, type AuthPluginOptions } from './plugin';
export { AuthError, isAuthError, type AuthErrorCode } from './errors';
export { hasScope, principalFromClaims } from './principal';
