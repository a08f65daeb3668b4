// Must NOT compile (types.test.mjs): validate takes a token string; a
// predicate gets the claim's value only, not all the claims too.
import { OAuthToolkit } from 'oatk'
new OAuthToolkit().validate(42)
new OAuthToolkit().authenticatedWithClaims({ name: (value: string, all: Record<string, any>) => value === all.name })
