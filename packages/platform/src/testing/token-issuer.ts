import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** A stand-in identity provider for tests: a JWKS on 127.0.0.1 and a way to mint RS256 tokens. */
export interface TestIssuer {
  jwksUri: string;
  token(subject: string, roles: string[], opts?: { issuer?: string; expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = 'test-key-1';
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('issuer has no port');
  return {
    jwksUri: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
    token: (subject, roles, opts = {}) =>
      new SignJWT({ user_id: subject, roles })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setSubject(subject)
        .setIssuer(opts.issuer ?? 'auth-service')
        .setIssuedAt()
        .setExpirationTime(`${opts.expiresInSeconds ?? 3600}s`)
        .sign(privateKey),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
