import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** services/inventory/public — resolved from this module, so it works from src/ (tsx) and dist/ alike. */
const PUBLIC_DIR = new URL('../../public/', import.meta.url);

export interface DashboardAssets {
  html: string;
  css: string;
  js: string;
}

const ORDER_URL_PLACEHOLDER = '__ORDER_SERVICE_URL__';

/**
 * Read once at boot. The only server-side substitution is the order-service base URL, written
 * into a meta attribute with HTML attribute escaping; the page's data arrives as JSON and is
 * inserted with textContent in the browser.
 */
export function loadDashboardAssets(orderServiceUrl: string | undefined): DashboardAssets {
  const read = (path: string) => readFileSync(fileURLToPath(new URL(path, PUBLIC_DIR)), 'utf8');
  return {
    html: read('release-dashboard.html').replace(ORDER_URL_PLACEHOLDER, escapeAttribute(orderServiceUrl ?? '')),
    css: read('assets/release-dashboard.css'),
    js: read('assets/release-dashboard.js'),
  };
}

export function escapeAttribute(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}
