// Release audit dashboard (http-api.md §3.7). Plain browser JavaScript, no framework, no external
// resources. Every value from the API is inserted with textContent (never as HTML), so a hostile
// reason such as <img src=x onerror=alert(1)> is shown as text.
(() => {
  const LIST_URL = '/api/stocks/release-events';
  const EXPORT_URL = '/api/stocks/release-events/export';
  const UUID_V1_TO_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
  const PALETTE = ['#2563eb', '#f97316', '#16a34a', '#dc2626', '#9333ea', '#0891b2', '#ca8a04', '#db2777'];
  const MINUTE = 60_000;
  const HOUR = 60 * MINUTE;
  const DAY = 24 * HOUR;
  const MAX_BUCKETS = 18;
  const CHART = { left: 40, right: 590, top: 20, bottom: 180 };

  const $ = (id) => document.getElementById(id);
  const state = { page: 0, totalPages: 0, hasNext: false, busy: false, timer: undefined };
  const orderServiceUrl = safeBaseUrl(
    document.querySelector('meta[name="order-service-url"]')?.getAttribute('content'),
  );

  // --- helpers ---------------------------------------------------------------------------------

  /** Only an http(s) base URL may become a link target (never javascript: or data:). */
  function safeBaseUrl(value) {
    if (!value || value.startsWith('__')) return undefined;
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:' ? value.replace(/\/+$/, '') : undefined;
    } catch {
      return undefined;
    }
  }

  /** A datetime-local value is local time; the API wants an ISO UTC instant. */
  function localToIso(value) {
    if (!value) return '';
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }

  function formatLocal(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  function setStatus(text, kind) {
    const status = $('status');
    status.textContent = text;
    status.className = `status ${kind || ''}`;
  }

  /** The error body's message, else its error, else the raw text cut to 240 characters. */
  function errorText(text, status) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body.message === 'string' && body.message) return body.message;
      if (body && typeof body.error === 'string' && body.error) return body.error;
    } catch {
      // not JSON: fall through to the raw text
    }
    return (text || `HTTP ${status}`).slice(0, 240);
  }

  function readFilters() {
    const orderId = $('order-id').value.trim();
    if (orderId && !UUID_V1_TO_V5.test(orderId)) return { error: 'Order ID must be a UUID (versions 1-5).' };
    const from = localToIso($('from').value);
    const to = localToIso($('to').value);
    if (from === undefined || to === undefined) return { error: 'From and To must be valid date-times.' };
    if (from && to && Date.parse(from) > Date.parse(to)) return { error: 'From must not be later than To.' };
    const params = new URLSearchParams();
    if (orderId) params.set('orderId', orderId);
    if (from) params.set('from', from);
    if (to) params.set('to', to);
    return { params };
  }

  // --- data ------------------------------------------------------------------------------------

  async function load(page, options = {}) {
    const filters = readFilters();
    if (filters.error) {
      setStatus(filters.error, 'error');
      return;
    }
    if (state.busy) return;
    state.busy = true;
    updatePager();
    if (!options.silent) setStatus('Loading release events…', 'progress');
    const params = filters.params;
    params.set('page', String(page));
    params.set('size', $('page-size').value);
    try {
      const response = await fetch(`${LIST_URL}?${params}`, { headers: { Accept: 'application/json' } });
      const text = await response.text();
      if (!response.ok) throw new Error(errorText(text, response.status));
      const body = JSON.parse(text);
      state.page = body.page;
      state.totalPages = body.totalPages;
      state.hasNext = body.hasNext;
      render(body);
      if (!options.silent)
        setStatus(`Loaded ${body.items.length} rows. Total matched: ${body.totalElements}.`, 'success');
      $('last-sync').textContent = `Last sync: ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      setStatus(err instanceof Error ? err.message : String(err), 'error');
    } finally {
      state.busy = false;
      updatePager();
    }
  }

  async function exportCsv() {
    const filters = readFilters();
    if (filters.error) {
      setStatus(filters.error, 'error');
      return;
    }
    const limit = Number($('export-limit').value);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000) {
      setStatus('Export Limit must be a whole number from 1 to 10000.', 'error');
      return;
    }
    const params = filters.params;
    params.set('limit', String(limit));
    setStatus('Exporting CSV…', 'progress');
    try {
      const response = await fetch(`${EXPORT_URL}?${params}`, { headers: { Accept: 'text/csv' } });
      if (!response.ok) throw new Error(errorText(await response.text(), response.status));
      const blob = await response.blob();
      const name =
        fileNameFrom(response.headers.get('Content-Disposition')) || `inventory-release-events-${Date.now()}.csv`;
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setStatus(`Exported ${name}.`, 'success');
    } catch (err) {
      setStatus(err instanceof Error ? err.message : String(err), 'error');
    }
  }

  /** Content-Disposition: filename*=UTF-8''… wins over filename="…" (RFC 6266). */
  function fileNameFrom(header) {
    if (!header) return undefined;
    const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/i.exec(header);
    let name;
    if (star) {
      try {
        name = decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
      } catch {
        name = undefined;
      }
    }
    if (!name) {
      const plain = /filename\s*=\s*"([^"]*)"/i.exec(header) || /filename\s*=\s*([^;]+)/i.exec(header);
      name = plain ? plain[1].trim() : undefined;
    }
    // A download name, never a path.
    return name ? name.replace(/[\\/]/g, '_') : undefined;
  }

  // --- rendering -------------------------------------------------------------------------------

  function render(body) {
    const items = Array.isArray(body.items) ? body.items : [];
    const times = items.map((i) => Date.parse(i.createdAt)).filter((t) => Number.isFinite(t));
    $('card-matched').textContent = String(body.totalElements);
    $('card-rows').textContent = String(items.length);
    $('card-newest').textContent = times.length ? new Date(Math.max(...times)).toLocaleString() : '–';
    $('card-oldest').textContent = times.length ? new Date(Math.min(...times)).toLocaleString() : '–';
    renderTable(items);
    renderTrend(times);
    renderReasons(items);
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function renderTable(items) {
    const rows = items.map((item) => {
      const tr = document.createElement('tr');
      const order = document.createElement('td');
      if (orderServiceUrl) {
        const link = document.createElement('a');
        link.href = `${orderServiceUrl}/api/orders/${encodeURIComponent(String(item.orderId))}/timeline`;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        link.title = 'Open the order timeline';
        link.textContent = String(item.orderId);
        order.append(link);
      } else {
        order.textContent = String(item.orderId);
      }
      tr.append(
        cell(String(item.releaseId)),
        order,
        cell(String(item.reservationId)),
        cell(item.reason == null ? '' : String(item.reason), 'reason'),
        cell(formatLocal(item.createdAt)),
      );
      return tr;
    });
    $('rows').replaceChildren(...rows);
    $('empty').hidden = items.length > 0;
  }

  /** Bucket from the page's span (1 min … 1 day), then doubled until at most 18 buckets. */
  function chooseBucket(spanMs) {
    let bucket =
      spanMs > 14 * DAY
        ? DAY
        : spanMs > 72 * HOUR
          ? 6 * HOUR
          : spanMs > 12 * HOUR
            ? HOUR
            : spanMs > 2 * HOUR
              ? 10 * MINUTE
              : MINUTE;
    while (Math.floor(spanMs / bucket) + 1 > MAX_BUCKETS) bucket *= 2;
    return bucket;
  }

  function bucketLabel(ms) {
    if (ms % DAY === 0) return `${ms / DAY} d`;
    if (ms % HOUR === 0) return `${ms / HOUR} h`;
    return `${ms / MINUTE} min`;
  }

  function renderTrend(times) {
    const labels = [0, 1, 2].map((i) => $(`trend-label-${i}`));
    if (times.length === 0) {
      $('trend-line').setAttribute('d', '');
      $('trend-area').setAttribute('d', '');
      $('trend-peak').textContent = '';
      $('trend-zero').textContent = '';
      for (const label of labels) label.textContent = '';
      $('trend-hint').textContent = 'No events on this page.';
      return;
    }
    const min = Math.min(...times);
    const max = Math.max(...times);
    const bucket = chooseBucket(max - min);
    const start = Math.floor(min / bucket) * bucket;
    const count = Math.floor((max - start) / bucket) + 1;
    const counts = new Array(count).fill(0);
    for (const t of times) counts[Math.min(count - 1, Math.floor((t - start) / bucket))] += 1;
    const peak = Math.max(...counts);
    const width = CHART.right - CHART.left;
    const x = (i) => (count === 1 ? CHART.left + (i === 0 ? 0 : width) : CHART.left + (i * width) / (count - 1));
    const y = (c) => CHART.bottom - (c / peak) * (CHART.bottom - CHART.top);
    const points =
      count === 1
        ? [
            [x(0), y(counts[0])],
            [x(1), y(counts[0])],
          ]
        : counts.map((c, i) => [x(i), y(c)]);
    const line = points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
    const first = points[0];
    const last = points[points.length - 1];
    $('trend-line').setAttribute('d', line);
    $('trend-area').setAttribute(
      'd',
      `${line} L${last[0].toFixed(1)},${CHART.bottom} L${first[0].toFixed(1)},${CHART.bottom} Z`,
    );
    $('trend-peak').textContent = String(peak);
    $('trend-zero').textContent = '0';
    const fmt = (ms) => (bucket >= DAY ? new Date(ms).toLocaleDateString() : new Date(ms).toLocaleString());
    const shown =
      count === 1
        ? [start]
        : count === 2
          ? [start, undefined, start + bucket]
          : [start, start + Math.floor((count - 1) / 2) * bucket, start + (count - 1) * bucket];
    labels.forEach((label, i) => {
      label.textContent = shown[i] === undefined ? '' : fmt(shown[i]);
    });
    $('trend-hint').textContent =
      `${times.length} events in ${count} bucket(s) of ${bucketLabel(bucket)}; peak ${peak}.`;
  }

  function renderReasons(items) {
    const counts = new Map();
    for (const item of items) {
      const reason = item.reason == null || String(item.reason).trim() === '' ? 'UNKNOWN' : String(item.reason);
      counts.set(reason, (counts.get(reason) || 0) + 1);
    }
    const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const total = items.length;
    const donut = $('donut');
    const legend = entries.map(([reason, count], i) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = PALETTE[i % PALETTE.length];
      const name = document.createElement('span');
      name.textContent = reason;
      const value = document.createElement('span');
      value.className = 'muted';
      value.textContent = `${count} (${((count / total) * 100).toFixed(1)}%)`;
      li.append(swatch, name, value);
      return li;
    });
    $('reason-legend').replaceChildren(...legend);
    if (entries.length === 0) {
      donut.style.background = '';
      $('reason-hint').textContent = 'No reasons on this page.';
      return;
    }
    let at = 0;
    const stops = entries.map(([, count], i) => {
      const from = at;
      at += (count / total) * 100;
      return `${PALETTE[i % PALETTE.length]} ${from.toFixed(3)}% ${at.toFixed(3)}%`;
    });
    // Only computed numbers and palette colours reach CSS, never API data.
    donut.style.background = `conic-gradient(${stops.join(', ')})`;
    const [top] = entries;
    $('reason-hint').textContent = `${entries.length} reason(s); top: ${top[0]} (${top[1]}).`;
  }

  function updatePager() {
    $('prev').disabled = state.busy || state.page <= 0;
    $('next').disabled = state.busy || !state.hasNext;
    $('page-indicator').textContent = `Page ${state.totalPages === 0 ? 0 : state.page + 1} / ${state.totalPages}`;
    for (const id of ['load', 'reset', 'export']) $(id).disabled = state.busy;
  }

  // --- auto refresh ----------------------------------------------------------------------------

  function scheduleRefresh() {
    clearInterval(state.timer);
    state.timer = undefined;
    if (!$('auto-refresh').checked) return;
    const seconds = Number($('refresh-interval').value) || 30;
    // Paused while the tab is hidden: the tick does nothing then.
    state.timer = setInterval(() => {
      if (!document.hidden && !state.busy) load(state.page, { silent: true });
    }, seconds * 1000);
  }

  // --- wiring ----------------------------------------------------------------------------------

  $('load').addEventListener('click', () => load(0));
  $('export').addEventListener('click', () => exportCsv());
  $('reset').addEventListener('click', () => {
    $('order-id').value = '';
    $('from').value = '';
    $('to').value = '';
    $('page-size').value = '20';
    $('export-limit').value = '1000';
    load(0);
  });
  for (const id of ['order-id', 'from', 'to', 'export-limit']) {
    $(id).addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        load(0);
      }
    });
  }
  $('page-size').addEventListener('change', () => load(0));
  $('prev').addEventListener('click', () => load(Math.max(0, state.page - 1)));
  $('next').addEventListener('click', () => load(state.page + 1));
  $('auto-refresh').addEventListener('change', scheduleRefresh);
  $('refresh-interval').addEventListener('change', scheduleRefresh);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && $('auto-refresh').checked && !state.busy) load(state.page, { silent: true });
  });

  load(0);
})();
