export { authPlugin, type AuthPluginOptions } from './plugin';
export { authOptionsFromConfig, TokenVerificationConfig } from './config';
export { AuthError, isAuthError, type AuthErrorCode } from './errors';
export { hasScope, principalFromClaims } from './principal';
