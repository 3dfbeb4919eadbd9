// Service worker. The app shell: network first, else the cached copy, so the page opens without
// a connection. The picture (a region's capacity, the facility and region lists): network first,
// the last good answer kept in the Cache API; served from there only when the network fails, and
// then marked with the header X-Cap-Stored-At, so the page shows it as the last picture with its
// time and never as live. Nothing else under /api/ is touched: no writes, no tokens, no refusals.
const SHELL_CACHE = 'capacity-shell-v12';
const DATA_CACHE = 'capacity-data-v1';
const SHELL = ['/', '/index.html', '/css/app.css', '/js/app.js', '/js/i18n.js', '/js/api.js', '/js/live.js',
  '/js/geo.js', '/js/midwife.js', '/js/filters.js', '/js/map.js', '/js/nl-outline.js', '/js/contacts.js', '/js/contactsedit.js', '/js/wardmap.js', '/js/refusal.js', '/js/transfer.js', '/js/offerlive.js', '/js/staffoffers.js', '/js/outbox.js', '/js/mine.js', '/js/staff.js', '/js/staffedit.js', '/js/staffstop.js', '/js/stafffresh.js', '/js/fielderrors.js', '/js/password.js', '/js/analyst.js',
  '/js/charts.js', '/js/admin.js', '/js/bell.js', '/js/alerts.js', '/js/alertsadmin.js', '/manifest.webmanifest', '/img/icon.svg'];
const PICTURE = [/^\/api\/v1\/regions\/[^/]+\/capacity$/, /^\/api\/v1\/regions$/, /^\/api\/v1\/facilities$/];

self.addEventListener('install', e => {
  e.waitUntil(caches.open(SHELL_CACHE).then(c => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', e => {
  const keep = [SHELL_CACHE, DATA_CACHE];
  e.waitUntil(caches.keys().then(keys => Promise.all(keys.filter(k => !keep.includes(k)).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function isShell(url) {
  return !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/ws/')
    && !url.pathname.startsWith('/docs') && url.pathname !== '/openapi.json';
}

async function shell(req, url) {
  const key = req.mode === 'navigate' ? '/index.html' : url.pathname + url.search;
  try {
    const res = await fetch(req);
    if (res.ok) {
      const copy = res.clone();
      caches.open(SHELL_CACHE).then(c => c.put(key, copy));
    }
    return res;
  } catch (err) {
    const hit = await caches.match(key, { cacheName: SHELL_CACHE });
    if (hit) return hit;
    throw err;
  }
}

async function picture(req, url) {
  const key = url.pathname + url.search;
  let res;
  try {
    res = await fetch(req);
  } catch (err) {
    const hit = await caches.match(key, { cacheName: DATA_CACHE });
    if (hit) return hit;
    throw err;
  }
  if (res.status >= 502 && res.status <= 504) {  // a proxy or the service says it is away
    const hit = await caches.match(key, { cacheName: DATA_CACHE });
    if (hit) return hit;
  }
  if (res.ok) {
    const headers = new Headers(res.headers);
    headers.set('X-Cap-Stored-At', new Date().toISOString());
    const body = await res.clone().arrayBuffer();
    const cache = await caches.open(DATA_CACHE);
    await cache.put(key, new Response(body, { status: 200, headers }));
  }
  return res;
}

self.addEventListener('fetch', e => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== location.origin) return;
  if (isShell(url)) e.respondWith(shell(req, url));
  else if (PICTURE.some(re => re.test(url.pathname))) e.respondWith(picture(req, url));
});
