// Brings in @fastify/swagger's FastifySchema augmentation (`hide`); the kernel registers the plugin.

import type { HttpApp } from '@ecom/platform';
import type {} from '@fastify/swagger';
import type { DashboardAssets } from './assets.js';

/**
 * Defence in depth for the page: only same-origin scripts, styles and fetches (the page uses
 * no inline script or style, no CDN, no external font), no framing, and no referrer leaking to
 * the order-service links.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The release-audit dashboard (http-api.md §3.7); left out of the OpenAPI document. */
export function registerDashboardRoutes(app: HttpApp, assets: DashboardAssets): void {
  const hidden = { schema: { hide: true } } as const;
  for (const path of ['/dashboard', '/dashboard/release-audit']) {
    app.get(path, hidden, (_request, reply) => reply.redirect('/release-dashboard.html', 302));
  }
  const serve = (path: string, contentType: string, body: string) =>
    app.get(path, hidden, (_request, reply) => reply.headers(SECURITY_HEADERS).type(contentType).send(body));
  serve('/release-dashboard.html', 'text/html; charset=utf-8', assets.html);
  serve('/assets/release-dashboard.css', 'text/css; charset=utf-8', assets.css);
  serve('/assets/release-dashboard.js', 'text/javascript; charset=utf-8', assets.js);
}
