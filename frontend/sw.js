// Service worker: the app shell from the network when possible, else from the cache, so the page
// opens without a connection. The last regional picture is kept by the page itself (localStorage,
// with the time it was last confirmed); API answers are never served from here, so a stale answer
// can never pass for a live one.
const CACHE = 'capacity-v1';
const SHELL = ['/', '/index.html', '/css/app.css', '/js/app.js', '/js/i18n.js', '/js/api.js', '/js/live.js',
  '/js/geo.js', '/js/midwife.js', '/js/refusal.js', '/js/mine.js', '/js/staff.js', '/js/analyst.js',
  '/js/charts.js', '/manifest.webmanifest', '/img/icon.svg'];

self.addEventListener('install', e => {
  e.waitUntil(caches.open(CACHE).then(c => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', e => {
  e.waitUntil(caches.keys().then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function cacheable(url) {
  return !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/ws/')
    && !url.pathname.startsWith('/docs') && url.pathname !== '/openapi.json';
}

self.addEventListener('fetch', e => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== location.origin || !cacheable(url)) return;
  const key = req.mode === 'navigate' ? '/index.html' : url.pathname + url.search;
  e.respondWith((async () => {
    try {
      const res = await fetch(req);
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then(c => c.put(key, copy));
      }
      return res;
    } catch (err) {
      const hit = await caches.match(key);
      if (hit) return hit;
      throw err;
    }
  })());
});
