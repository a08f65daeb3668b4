// Must NOT compile (types.test.mjs): validate takes a token string.
import { OAuthToolkit } from 'oatk'
new OAuthToolkit().validate(42)
